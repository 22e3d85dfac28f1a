import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILTIN_CATEGORIES, redactText, scanText } from '../../../src/privacy/detect/index.ts';
import type { Finding, ScanOptions } from '../../../src/privacy/detect/index.ts';
import { found } from '../../fixtures/pii-corpus/helpers.ts';

const PII = [
  'jane.doe@example.com',
  '(202) 555-0123',
  '+44 20 7946 0958',
  '4111 1111 1111 1111',
  '378282246310005',
  'DE89 3704 0044 0532 0130 00',
  'GB82WEST12345698765432',
  '234-56-7891',
  '203.0.113.7',
  '2001:db8::8a2e:370:7334',
];

const DECOYS = [
  'Order #1234567890 shipped',
  'ORD-2024-000123',
  'ISBN 978-3-16-148410-0 and 0-306-40615-2',
  '2024-03-01T12:34:56.789Z',
  '2024-03-01 12:34:56',
  'epoch 1709251200 and 1709251200123',
  'v2.14.3 and 10.0.19041.1',
  'commit 4bf92f3577b34da6a3ce929d0e0e4736',
  'req 550e8400-e29b-41d4-a716-446655440000',
  '$1,234.56 and EUR 99.90',
  'UPS 1Z999AA10123456784',
  'USPS 9400 1000 0000 0000 0000 00',
  'FedEx 798765432109',
  '4111 1111 1111 1112',
  'DE88 3704 0044 0532 0130 00',
  '078-05-1120',
  'meeting 2024-01-15',
  '00:1a:2b:3c:4d:5e',
  'std::vector<int> v;',
  'call 555-0123',
];

function assertWellFormed(text: string, findings: readonly Finding[]): void {
  let last = 0;
  for (const f of findings) {
    expect(Number.isInteger(f.start) && Number.isInteger(f.end)).toBe(true);
    expect(f.start).toBeGreaterThanOrEqual(last);
    expect(f.end).toBeGreaterThan(f.start);
    expect(f.end).toBeLessThanOrEqual(text.length);
    expect(f.confidence).toBeGreaterThan(0);
    expect(f.confidence).toBeLessThanOrEqual(1);
    last = f.end;
  }
}

/** Occurrences of `needle` in `hay`, overlapping ones included. */
function occurrences(hay: string, needle: string): number {
  let n = 0;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) n++;
  return n;
}

describe('scanText', () => {
  it('finds each category in one text, in order, with counts', () => {
    const text = `From ${PII.join(' / ')}. DOB: 1985-03-12.`;
    const result = scanText(text);
    expect(result.findings.map((f) => text.slice(f.start, f.end))).toEqual([...PII, '1985-03-12']);
    expect(result.counts).toEqual({
      email: 1,
      phone: 2,
      payment_card: 2,
      iban: 2,
      us_ssn: 1,
      ip_address: 2,
      date_of_birth: 1,
    });
  });

  it.each(DECOYS)('does not flag the decoy %j', (decoy) => {
    expect(found(`note: ${decoy}.`)).toEqual([]);
  });

  it('reports UTF-16 offsets after emoji, surrogate pairs and combining marks', () => {
    const text = '👩‍👩‍👧 café 🇩🇪 ✓ 4111111111111111 then 😀 jane@example.com';
    const f = scanText(text).findings;
    expect(f.map((x) => [x.start, x.end])).toEqual([
      [text.indexOf('4111'), text.indexOf('4111') + 16],
      [text.indexOf('jane'), text.indexOf('jane') + 16],
    ]);
  });

  it('limits the scan to the requested categories and confidence', () => {
    const text = 'jane@example.com 203.0.113.7 Tel: 2025550123';
    expect(found(text, { categories: ['ip_address'] })).toEqual([['ip_address', '203.0.113.7']]);
    expect(found(text, { minConfidence: 0.9 })).toEqual([['email', 'jane@example.com']]);
    expect(scanText(text, { categories: [] }).counts).toEqual({});
    expect(Object.keys(scanText('').counts).sort()).toEqual([...BUILTIN_CATEGORIES].sort());
  });

  it.each([
    ['a non-string text', () => scanText(42 as unknown as string)],
    ['an unknown category', () => scanText('x', { categories: ['name'] } as unknown as ScanOptions)],
    ['minConfidence out of range', () => scanText('x', { minConfidence: 2 })],
    ['options that are not an object', () => scanText('x', null as unknown as ScanOptions)],
    [
      'categories that are not an array',
      () => scanText('x', { categories: 'email' } as unknown as ScanOptions),
    ],
    ['custom that is not an array', () => scanText('x', { custom: {} } as unknown as ScanOptions)],
  ])('rejects %s with INPUT_INVALID', (_name, run) => {
    expect(run).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });

  it('finds the same values in a long text as in its lines (chunk boundaries)', () => {
    // Lines of varying length so values land on every offset around the 64 Ki chunk edges,
    // including minified stretches with no newline at all.
    const lines: string[] = [];
    for (let k = 0; lines.join('\n').length < 300_000; k++) {
      const pad = 'x'.repeat((k * 37) % 200);
      const value = PII[k % PII.length] ?? '';
      lines.push(k % 7 === 0 ? `{"a":"${pad}","v":"${value}","b":[1,2,3]}` : `${pad} ${value} tail`);
    }
    const text = lines.join('\n');
    const oneLine = lines.join(',');
    const expected = lines.flatMap((l) => found(l));
    expect(found(text)).toEqual(expected);
    expect(found(oneLine)).toEqual(expected);
    expect(expected.length).toBe(lines.length);
  });

  it('handles UTF-16 text across chunk boundaries', () => {
    const lines: string[] = [];
    for (let k = 0; lines.join('\n').length < 200_000; k++) {
      lines.push(`${'😀é'.repeat(k % 50)} ${PII[k % PII.length] ?? ''} “ok”`);
    }
    expect(found(lines.join('\n'))).toEqual(lines.flatMap((l) => found(l)));
  });

  it.each([
    ['@', '@'],
    ['a@', 'a@'],
    ['digits and spaces', '1 '],
    ['digits and dashes', '1-'],
    ['colons', ':'],
    ['hex and colons', 'a:'],
    ['opening marks', '+('],
    ['IBAN starts', 'DE89 '],
    ['dotted digits', '1.'],
    ['parenthesised digits', '(1) '],
    ['long digit run', '1'],
    ['long word', 'a'],
  ])('stays linear on pathological input: %s', (_name, unit) => {
    const text = unit.repeat(Math.ceil(300_000 / unit.length));
    const t0 = performance.now();
    const { findings } = scanText(text);
    expect(performance.now() - t0).toBeLessThan(2000);
    assertWellFormed(text, findings);
  });

  it('never throws and returns sorted, in-bounds, non-overlapping findings (property)', () => {
    const piece = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.constantFrom(...PII, ...DECOYS, ' ', '\n', '@', ':', '::', '+', '(', '-', '.', '/', 'DOB ', 'Tel '),
      fc.stringMatching(/^[0-9 .()+-]{1,24}$/),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
        const text = parts.join('');
        const { findings } = scanText(text);
        assertWellFormed(text, findings);
      }),
      { numRuns: 1500 },
    );
  });

  it('finds every planted value and nothing else in noise-free text (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...PII), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(' ', ' | ', '\n', ', '),
        (values, sep) => {
          const text = values.join(sep);
          expect(found(text).map(([, v]) => v)).toEqual(values);
        },
      ),
    );
  });

  it('redactText removes every detected value (property)', () => {
    const piece = fc.oneof(fc.constantFrom(...PII, ...DECOYS), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 12 }),
        fc.constantFrom('mask', 'label', 'fixed' as const),
        (parts, style) => {
          const text = parts.join(' ');
          const { findings } = scanText(text);
          const redacted = redactText(text, findings, style);
          const again = scanText(redacted).findings.map((f) => redacted.slice(f.start, f.end));
          const values = findings.map((f) => text.slice(f.start, f.end));
          // Every detected occurrence is gone. The same characters may also stand elsewhere where the
          // scanner rightly did not flag them (a card number running into more digits): those stay.
          for (const v of new Set(values)) {
            const unflagged = occurrences(text, v) - values.filter((x) => x === v).length;
            expect(occurrences(redacted, v)).toBeLessThanOrEqual(Math.max(0, unflagged));
            if (unflagged <= 0) expect(again).not.toContain(v);
          }
        },
      ),
    );
  });
});
