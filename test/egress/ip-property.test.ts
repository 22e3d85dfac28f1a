// Property tests for the hostile-input address parser: every spelling of an address means the same
// address and gets the same verdict; arbitrary text never throws; formatting round-trips.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAddress, formatIp, parseIpLoose, parseIpv6 } from '../../src/egress/index.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });

function spellings(n: number): string[] {
  const b = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff] as const;
  const oct = (v: number) => `0${v.toString(8)}`;
  const hex = (v: number) => `0x${v.toString(16)}`;
  return [
    b.join('.'),
    String(n),
    hex(n),
    oct(n),
    `${b[0]}.${(n & 0xffffff).toString()}`,
    `${hex(b[0])}.${hex(n & 0xffffff)}`,
    `${b[0]}.${b[1]}.${(n & 0xffff).toString()}`,
    b.map(oct).join('.'),
    b.map(hex).join('.'),
    `${b.join('.')}.`,
  ];
}

describe('address parsing properties', () => {
  it('every inet_aton spelling of an IPv4 address is that address, with one verdict', () => {
    fc.assert(
      fc.property(u32, (n) => {
        const [canonical, ...rest] = spellings(n);
        const verdict = checkAddress(canonical!);
        for (const s of rest) {
          const ip = parseIpLoose(s);
          expect(ip && formatIp(ip), s).toBe(canonical);
          expect(checkAddress(s), s).toEqual(verdict);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('IPv4-mapped, -translated and NAT64 forms get the verdict of the embedded address', () => {
    fc.assert(
      fc.property(u32, (n) => {
        const v4 = spellings(n)[0]!;
        const inner = checkAddress(v4);
        for (const v6 of [`::ffff:${v4}`, `::ffff:0:${v4}`, `64:ff9b::${v4}`]) {
          const outer = checkAddress(v6);
          expect([outer.allowed, outer.category, outer.embedded], v6).toEqual([
            inner.allowed,
            inner.category,
            v4,
          ]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('formats and re-parses any IPv6 address', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = formatIp({ family: 6, bytes });
        expect(Buffer.from(parseIpv6(text)!.bytes)).toEqual(Buffer.from(bytes));
        expect(Buffer.from(parseIpv6(`[${text.toUpperCase()}]`)!.bytes)).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary input, and whatever parses round-trips', () => {
    const alphabet = fc.constantFrom(...'0123456789abcdefxX.:[]%ffff'.split(''));
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: alphabet, maxLength: 40 })),
        (s) => {
          const ip = parseIpLoose(s);
          const verdict = checkAddress(s);
          if (ip === undefined) {
            expect(verdict).toMatchObject({ allowed: false, category: 'invalid' });
            return;
          }
          const again = parseIpLoose(formatIp(ip));
          expect(again && Buffer.from(again.bytes)).toEqual(Buffer.from(ip.bytes));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
