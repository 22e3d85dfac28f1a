import { describe, expect, it } from 'vitest';
import { escapePointerToken, hintForKey, scanJson } from '../../../src/privacy/detect/index.ts';

describe('scanJson', () => {
  it('reports RFC 6901 pointers with ~0 and ~1 escapes and offsets inside the string', () => {
    const value = {
      'a/b': { 'm~n': ['x', 'write to jane@example.com'] },
      list: [{ ip: '203.0.113.7' }],
    };
    const { findings, counts } = scanJson(value);
    expect(findings).toEqual([
      {
        category: 'email',
        path: '/a~1b/m~0n/1',
        start: 9,
        end: 25,
        confidence: expect.any(Number) as number,
      },
      {
        category: 'ip_address',
        path: '/list/0/ip',
        start: 0,
        end: 11,
        confidence: expect.any(Number) as number,
      },
    ]);
    expect(counts.email).toBe(1);
    expect(escapePointerToken('~/')).toBe('~0~1');
  });

  it('scans member names and large integers', () => {
    const { findings } = scanJson({ 'jane@example.com': { card: 4111111111111111, qty: 3 } });
    expect(findings.map((f) => [f.category, f.path, f.inKey ?? false])).toEqual([
      ['email', '/jane@example.com', true],
      ['payment_card', '/jane@example.com/card', false],
    ]);
  });

  it('boosts confidence when the key names the category, and never creates findings from keys alone', () => {
    const plain = scanJson({ note: 'jane@example.com' }).findings[0]?.confidence ?? 0;
    const keyed = scanJson({ email: 'jane@example.com' }).findings[0]?.confidence ?? 0;
    expect(keyed).toBeGreaterThan(plain);
    expect(scanJson({ email: 'not an address', ssn: 'n/a', phone: '12' }).findings).toEqual([]);
  });

  it('maps key names to categories', () => {
    expect(hintForKey('emailAddress')).toBe('email');
    expect(hintForKey('phone_number')).toBe('phone');
    expect(hintForKey('SSN')).toBe('us_ssn');
    expect(hintForKey('card_number')).toBe('payment_card');
    expect(hintForKey('IBAN')).toBe('iban');
    expect(hintForKey('client_ip')).toBe('ip_address');
    expect(hintForKey('date_of_birth')).toBe('date_of_birth');
    expect(hintForKey('zip')).toBeUndefined();
  });

  it('handles deep nesting without recursion', () => {
    let value: unknown = 'jane@example.com';
    for (let k = 0; k < 20_000; k++) value = [value];
    const { findings } = scanJson(value);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.path).toBe('/0'.repeat(20_000));
  });

  it('rejects a cyclic value with INPUT_INVALID', () => {
    const a: Record<string, unknown> = { x: 'jane@example.com' };
    a.self = a;
    expect(() => scanJson(a)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });

  it('scans a shared (acyclic) object at each of its paths', () => {
    const shared = { email: 'jane@example.com' };
    expect(scanJson({ a: shared, b: shared }).findings.map((f) => f.path)).toEqual(['/a/email', '/b/email']);
  });
});
