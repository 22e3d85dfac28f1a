import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { isCustosError, type CustosError, type ErrorProblem } from '../../../src/errors/index.ts';
import {
  checkWorkflowText,
  DEFINITION_LIMITS,
  parseWorkflow,
  STEP_KINDS,
} from '../../../src/engine/definition/index.ts';
import { fixture, workflowWith } from '../steps/fakes.ts';

function problemsOf(text: string, filename = 'wf.yaml'): readonly ErrorProblem[] {
  const result = checkWorkflowText(text, { filename });
  return result.ok ? [] : result.problems;
}

function thrown(fn: () => unknown): CustosError {
  try {
    fn();
  } catch (err) {
    if (isCustosError(err)) return err;
    throw err;
  }
  throw new Error('expected a CustosError');
}

describe('parseWorkflow', () => {
  it('parses the full example with every step kind', () => {
    const def = parseWorkflow(fixture('onboarding.yaml'), { filename: 'onboarding.yaml' });
    expect(def.name).toBe('customer-onboarding');
    expect(new Set(def.steps.map((s) => s.kind))).toEqual(new Set(STEP_KINDS));
    expect(def.connectors?.crm?.auth).toEqual({ kind: 'bearer', secret: 'CRM_TOKEN' });
  });

  it('parses the same definition written as JSON', () => {
    const yamlDef = parseWorkflow(fixture('onboarding.yaml'), { filename: 'onboarding.yaml' });
    const json = JSON.stringify(yamlDef, null, 2);
    expect(parseWorkflow(json, { filename: 'onboarding.json' })).toEqual(yamlDef);
  });

  it('reports unknown step kinds with line and column', () => {
    const text = stringify(workflowWith([{ id: 'a', kind: 'teleport' }]));
    const err = thrown(() => parseWorkflow(text, { filename: 'wf.yaml' }));
    expect(err.code).toBe('ENGINE_DEFINITION_INVALID');
    const problem = err.details.problems?.[0];
    expect(problem?.field).toBe('/steps/0/kind');
    expect(problem?.rule).toBe("unknown step kind 'teleport'");
    const line = text.split('\n').findIndex((l) => l.includes('kind: teleport')) + 1;
    expect(problem?.line).toBe(line);
    expect(problem?.column).toBeGreaterThan(1);
    expect(err.message).toContain(`line ${line}`);
  });

  it('reports every problem, not just the first, each located', () => {
    const text = [
      'format: custos/workflow/v1',
      'name: Bad_Name',
      'version: one',
      'owner: me',
      'trigger: { kind: manual }',
      'retention: forever',
      'data: { fields: {} }',
      'steps:',
      '  - id: a',
      '    kind: transform',
      '    expression: "1"',
      '    colour: blue',
    ].join('\n');
    const problems = problemsOf(text);
    expect(problems.map((p) => [p.field, p.line])).toEqual(
      expect.arrayContaining([
        ['/name', 2],
        ['/version', 3],
        ['/retention', 6],
        ['/steps/0/colour', 12],
      ]),
    );
  });

  it('reports missing required properties at their parent', () => {
    const problems = problemsOf('format: custos/workflow/v1\nname: x\n');
    expect(problems.map((p) => p.rule)).toContain("missing required property 'steps'");
    expect(problems.every((p) => p.line === 1)).toBe(true);
  });

  it('rejects YAML syntax errors with their position', () => {
    const problems = problemsOf('name: [unclosed\nsteps: 1\n');
    expect(problems[0]?.rule).toMatch(/^YAML syntax/);
    expect(problems[0]?.line).toBeGreaterThanOrEqual(1);
  });

  it('rejects duplicate keys', () => {
    const problems = problemsOf('name: a\nname: b\n');
    expect(problems[0]?.rule).toMatch(/duplicate key/);
    expect(problems[0]?.line).toBe(2);
  });

  it('rejects strict-JSON violations in .json files with their position', () => {
    const problems = problemsOf('{\n  "name": "a",\n  trailing: 1\n}', 'wf.json');
    expect(problems[0]?.rule).toBe('JSON syntax error');
    expect(problems[0]?.line).toBe(3);
  });

  it('rejects YAML tags', () => {
    const base = stringify(workflowWith([{ id: 'a', kind: 'transform', expression: '1' }]));
    expect(problemsOf(`${base}\ndescription: !!binary aGVsbG8=\n`).map((p) => p.rule)).toContain(
      'YAML tags are not allowed',
    );
  });

  it('limits YAML aliases (billion laughs)', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 9; i++) {
      const prev = `*a${i - 1}`;
      lines.push(`a${i}: &a${i} [${Array(10).fill(prev).join(', ')}]`);
    }
    const started = Date.now();
    const problems = problemsOf(lines.join('\n'));
    expect(problems.map((p) => p.rule)).toContain(`more than ${DEFINITION_LIMITS.maxAliases} YAML aliases`);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('limits nesting depth before and after parsing', () => {
    const deep = `name: ${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    expect(problemsOf(deep)[0]?.rule).toMatch(/nested deeper/);
    let nested: unknown = 'x';
    for (let i = 0; i < 40; i++) nested = { n: nested };
    const text = stringify({
      ...workflowWith([{ id: 'a', kind: 'transform', expression: '1' }]),
      description: nested,
    });
    expect(problemsOf(text)[0]?.rule).toMatch(/nested deeper than 32 levels/);
  });

  it('limits the size of a definition', () => {
    const big = `description: "${'x'.repeat(DEFINITION_LIMITS.maxBytes)}"`;
    expect(thrown(() => parseWorkflow(big)).code).toBe('ENGINE_DEFINITION_TOO_LARGE');
  });

  it('limits the number of steps', () => {
    const steps = Array.from({ length: DEFINITION_LIMITS.maxSteps + 1 }, (_, i) => ({
      id: `s${i}`,
      kind: 'transform',
      expression: '1',
    }));
    expect(problemsOf(stringify(workflowWith(steps))).map((p) => p.field)).toContain('/steps');
  });

  it('rejects non-finite numbers', () => {
    const text = stringify(
      workflowWith([{ id: 'a', kind: 'ai', connector: 'open', api: 'openai-chat', model: 'm', prompt: 'p' }]),
    );
    expect(problemsOf(text.replace('prompt: p', 'prompt: p\n    temperature: .nan'))[0]?.rule).toBe(
      'numbers must be finite',
    );
  });

  it('never throws anything but typed errors on arbitrary text (fuzz)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        try {
          checkWorkflowText(text, { filename: 'fuzz.yaml' });
        } catch (err) {
          expect(isCustosError(err)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but typed errors on arbitrary JSON values (fuzz)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const result = checkWorkflowText(JSON.stringify(value), { filename: 'fuzz.json' });
        expect(result.ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('stays well-typed on mutated valid definitions (fuzz)', () => {
    const base = workflowWith([
      { id: 'a', kind: 'transform', expression: 'input.plan' },
      {
        id: 'b',
        kind: 'http',
        connector: 'crm',
        method: 'POST',
        path: '/x',
        body: { e: '{{ input.email }}' },
      },
    ]);
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 3 }),
        fc.constantFrom('steps', 'connectors', 'data', 'trigger', 'secrets'),
        (junk, key) => {
          const result = checkWorkflowText(JSON.stringify({ ...base, [key]: junk }), { filename: 'm.json' });
          if (!result.ok) expect(result.problems.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
