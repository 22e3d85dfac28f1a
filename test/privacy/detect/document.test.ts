import { describe, expect, it } from 'vitest';
import { isCustosError } from '../../../src/errors/index.ts';
import { scanDocument } from '../../../src/privacy/detect/index.ts';
import type { DocumentFormat } from '../../../src/privacy/detect/index.ts';

function inputError(run: () => unknown): { message: string; details: Record<string, unknown> } {
  try {
    run();
  } catch (e) {
    if (isCustosError(e, 'INPUT_INVALID')) return { message: e.message, details: { ...e.details } };
    throw e;
  }
  throw new Error('no error');
}

describe('scanDocument', () => {
  it('scans text', () => {
    const r = scanDocument('mail jane@example.com', 'text');
    expect(r.format).toBe('text');
    expect(r.findings.map((f) => [f.category, f.start, f.end])).toEqual([['email', 5, 21]]);
    expect(r.counts.email).toBe(1);
  });

  it('scans JSON with pointers', () => {
    const r = scanDocument('{"user":{"email":"jane@example.com"}}', 'json');
    expect(r.format).toBe('json');
    expect(r.findings.map((f) => ('path' in f ? f.path : ''))).toEqual(['/user/email']);
  });

  it('prefixes NDJSON paths with the 0-based line index, blank lines included', () => {
    const input = '{"a":"x"}\r\n\n{"ip":"203.0.113.7"}\n[{"e":"jane@example.com"}]\n';
    const r = scanDocument(input, 'ndjson');
    expect(r.format).toBe('ndjson');
    expect(r.findings.map((f) => ('path' in f ? f.path : ''))).toEqual(['/2/ip', '/3/0/e']);
  });

  it.each([
    ['{"email":"jane@example.com"}', 'json'],
    ['{"a":1}\n{"email":"jane@example.com"}', 'ndjson'],
    ['plain jane@example.com', 'text'],
    ['{"broken": "jane@example.com"', 'text'],
  ] as const)('auto-detects %j as %s and still finds the address', (input, format) => {
    const r = scanDocument(input);
    expect(r.format).toBe(format);
    expect(r.counts.email).toBe(1);
  });

  it('names line, column and rule of malformed JSON without quoting it', () => {
    const secret = 'jane.secret@example.com';
    const e = inputError(() => scanDocument(`{\n  "a": 1,\n  "b": ${secret}\n}`, 'json'));
    expect(e.details).toMatchObject({ field: 'input', line: 3, column: 8, rule: 'unexpected character' });
    expect(e.message).toContain('line 3');
    expect(JSON.stringify(e)).not.toContain('secret');
  });

  it.each([
    ['{"a":1,}', 1, 8, 'expected a member name'],
    ['[1,2', 1, 5, 'unexpected end of input'],
    ['{"a" 1}', 1, 6, "expected ':'"],
    ['{"a":"x\ty"}', 1, 8, 'control character in string'],
    ['{"a":01}', 1, 7, 'invalid number'],
    ['{"a":1} x', 1, 9, 'unexpected content after the value'],
    ['"\\q"', 1, 2, 'invalid escape'],
    ['', 1, 1, 'unexpected end of input'],
  ])('locates the error in %j', (input, line, column, rule) => {
    expect(inputError(() => scanDocument(input, 'json')).details).toMatchObject({ line, column, rule });
  });

  it('names the physical line of a malformed NDJSON record', () => {
    const e = inputError(() => scanDocument('{"a":1}\n\n{"b":tru}\n', 'ndjson'));
    expect(e.details).toMatchObject({ field: 'input', line: 3, column: 6 });
  });

  it('rejects bad arguments', () => {
    expect(inputError(() => scanDocument(1 as unknown as string)).details).toMatchObject({ field: 'input' });
    expect(inputError(() => scanDocument('x', 'xml' as DocumentFormat)).details).toMatchObject({
      field: 'format',
    });
  });
});
