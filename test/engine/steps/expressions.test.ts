import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isCustosError } from '../../../src/errors/index.ts';
import { parseTemplate, templateReferences } from '../../../src/engine/expressions/template.ts';
import { renderJson, renderText } from '../../../src/engine/expressions/render.ts';
import { compileJsonata, evaluateJsonata, isTruthy } from '../../../src/engine/expressions/jsonata.ts';
import type { JsonValue } from '../../../src/crypto/index.ts';
import type { ExpressionScope } from '../../../src/engine/step-contract.ts';

const scope: ExpressionScope = {
  input: { email: 'Ada@Example.com', amount: 12, tags: ['a', 'b'], nested: { 'odd key': 1 } },
  steps: { lookup: { output: { id: 'c/42', items: [{ id: 7 }] } } },
  run: { id: 'run-1', workflow: 'wf', environment: 'prod' },
};
const signal = new AbortController().signal;

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isCustosError(err)) return err.code;
    throw err;
  }
  return 'none';
}

describe('templates', () => {
  it('renders references, indexes, quoted keys and filters', () => {
    expect(renderText('Hi {{ input.email | lower }} #{{ steps.lookup.output.items[0].id }}', scope)).toBe(
      'Hi ada@example.com #7',
    );
    expect(renderText('{{ input.nested["odd key"] }}/{{ run.environment | upper }}', scope)).toBe('1/PROD');
    expect(renderText('{{ input.tags | json }} {{ input.missing }}|', scope)).toBe('["a","b"] |');
    expect(renderText('/c/{{ steps.lookup.output.id | url }}', scope)).toBe('/c/c%2F42');
  });

  it('keeps the type of a single-expression JSON template value', () => {
    expect(
      renderJson(
        {
          amount: '{{ input.amount }}',
          tags: '{{ input.tags }}',
          text: 'n={{ input.amount }}',
          gone: '{{ input.nope }}',
        },
        scope,
      ),
    ).toEqual({ amount: 12, tags: ['a', 'b'], text: 'n=12', gone: null });
  });

  it('never reads inherited properties and keeps __proto__ keys as data', () => {
    expect(renderText('{{ input.constructor }}{{ input.email.length }}{{ input.__proto__ }}', scope)).toBe(
      '',
    );
    const out = renderJson(
      JSON.parse('{"__proto__": {"polluted": "{{ input.amount }}"}}') as never,
      scope,
    ) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects operators, calls, unknown roots and filters, and bad secret or step references', () => {
    for (const bad of [
      '{{ input.a + 1 }}',
      '{{ input.a() }}',
      '{{ process.env }}',
      '{{ input.a | eval }}',
      '{{ secrets }}',
      '{{ secrets.A.B }}',
      '{{ steps.x }}',
      '{{ steps.x.status }}',
      '{{ input.a ',
      '{{ {{ input.a }} }}',
    ]) {
      expect(() => parseTemplate(bad), bad).toThrow(
        expect.objectContaining({ code: 'ENGINE_EXPRESSION_INVALID' }),
      );
    }
  });

  it('renders secrets only when the caller supplies them', () => {
    expect(() => renderText('Bearer {{ secrets.TOKEN }}', scope)).toThrow(
      expect.objectContaining({ code: 'ENGINE_EXPRESSION_FAILED' }),
    );
    expect(renderText('Bearer {{ secrets.TOKEN }}', scope, { secrets: new Map([['TOKEN', 't0k']]) })).toBe(
      'Bearer t0k',
    );
    expect(templateReferences(parseTemplate('{{ secrets.TOKEN }}'))).toEqual([
      { root: 'secrets', path: ['TOKEN'] },
    ]);
  });

  it('parses any text without crashing (fuzz)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          renderText(text, scope);
        } catch (err) {
          expect(isCustosError(err)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('JSONata', () => {
  it('evaluates over input, steps and run, finding step references statically', async () => {
    const compiled = compileJsonata(
      '{ "e": $lowercase(input.email), "id": steps.lookup.output.items[0].id, "run": run.id }',
    );
    expect(compiled.references).toEqual({ steps: ['lookup'], secrets: false });
    expect(compileJsonata('input.secrets').references.secrets).toBe(false);
    expect(compileJsonata('secrets.TOKEN').references.secrets).toBe(true);
    expect(compileJsonata('$count(input.items[secrets.X = 1])').references.secrets).toBe(true);
    expect(await evaluateJsonata(compiled, scope, signal)).toEqual({
      e: 'ada@example.com',
      id: 7,
      run: 'run-1',
    });
    expect(await evaluateJsonata(compileJsonata('input.nothing'), scope, signal)).toBeNull();
  });

  it('does not reach constructors or prototypes', async () => {
    for (const expr of [
      'input.constructor',
      'input.email.constructor.constructor("return process")()',
      '$lookup(input, "__proto__")',
      'input.__proto__',
    ]) {
      const result = await evaluateJsonata(compileJsonata(expr), scope, signal).catch((e: unknown) => e);
      expect(result === null || isCustosError(result), expr).toBe(true);
    }
  });

  it('stops infinite recursion, long loops, huge sequences and string bombs', async () => {
    const limits = { timeoutMs: 200, maxDepth: 100, maxSequence: 10_000, maxChars: 100_000 };
    const run = (expr: string) => code(evaluateJsonata(compileJsonata(expr, limits), scope, signal, limits));
    expect(await run('($f := function($n) { $f($n + 1) }; $f(0))')).toBe('ENGINE_EXPRESSION_LIMIT');
    expect(await run('[1..100000].($ * 2)')).toBe('ENGINE_EXPRESSION_LIMIT');
    expect(await run('($f := function($s, $n) { $n = 0 ? $s : $f($s & $s, $n - 1) }; $f("ab", 40))')).toBe(
      'ENGINE_EXPRESSION_LIMIT',
    );
    expect(await run('$pad("x", 200000)')).toBe('ENGINE_EXPRESSION_LIMIT');
  });

  it('maps runtime errors without quoting values, and honours cancellation', async () => {
    const err = await evaluateJsonata(compileJsonata('$number(input.email)'), scope, signal).catch(
      (e: unknown) => e,
    );
    expect(isCustosError(err, 'ENGINE_EXPRESSION_FAILED')).toBe(true);
    expect((err as Error).message).not.toContain('Ada');
    const aborted = AbortSignal.abort();
    expect(await code(evaluateJsonata(compileJsonata('1'), scope, aborted))).toBe('ENGINE_STEP_ABORTED');
  });

  it('has JSONata truthiness', () => {
    const values: JsonValue[] = [null, false, 0, '', [], {}, [0, ''], 1, 'x', [0, 1], { a: 1 }];
    expect(values.map((v) => isTruthy(v))).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
  });
});
