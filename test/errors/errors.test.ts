import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CustosError, ERROR_CODES, toProblem } from '../../src/errors/index.ts';
import { renderErrorDocs } from '../../scripts/error-docs.ts';

describe('error registry', () => {
  it('is documented exactly as the registry says (run node scripts/error-docs.ts)', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
    expect(doc).toBe(renderErrorDocs());
  });

  it('gives every code a 4xx/5xx status and a title', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(spec.status).toBeGreaterThanOrEqual(400);
      expect(spec.status).toBeLessThan(600);
      expect(spec.title.length).toBeGreaterThan(0);
    }
  });

  it('maps a CustosError to an RFC 9457 problem with field and rule', () => {
    const p = toProblem(
      new CustosError('CONFIG_INVALID', 'server.port: must be <= 65535', {
        details: { field: 'server.port', rule: 'must be <= 65535' },
      }),
      '/x',
    );
    expect(p).toMatchObject({
      type: 'urn:custos:error:config-invalid',
      status: 400,
      code: 'CONFIG_INVALID',
      field: 'server.port',
      rule: 'must be <= 65535',
      instance: '/x',
    });
  });

  it('never exposes the message of an unexpected error', () => {
    const p = toProblem(new Error('password=hunter2'));
    expect(p.code).toBe('INTERNAL');
    expect(JSON.stringify(p)).not.toContain('hunter2');
  });
});
