import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIpv4, isIpv6 } from '../../../src/privacy/detect/index.ts';
import { valuesOf } from '../../fixtures/pii-corpus/helpers.ts';

describe('IP address detector', () => {
  it.each([
    ['client 203.0.113.7 connected', '203.0.113.7'],
    ['ip=10.0.0.1,', '10.0.0.1'],
    ['with a port 192.168.1.20:8080', '192.168.1.20'],
    ['a CIDR block 10.0.0.0/8', '10.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['full 2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:0db8:0000:0000:0000:ff00:0042:8329'],
    ['compressed 2001:db8::8a2e:370:7334.', '2001:db8::8a2e:370:7334'],
    ['link-local fe80::1 up', 'fe80::1'],
    ['loopback ::1', '::1'],
    ['mapped ::ffff:192.0.2.128', '::ffff:192.0.2.128'],
    ['trailing 2001:db8::', '2001:db8::'],
  ])('finds %j', (text, value) => {
    expect(valuesOf('ip_address', text)).toEqual([value]);
  });

  it.each([
    'octet 256.1.1.1',
    'leading zero 10.01.0.1',
    'this-network 0.1.2.3',
    'version 10.0.19041.1',
    'three parts 1.2.3',
    'five parts 1.2.3.4.5',
    'glued v1.2.3.4',
    'glued 1.2.3.4x',
    'C++ std::vector<int>',
    'MAC 00:1a:2b:3c:4d:5e',
    'time 12:34:56.789',
    'ratio 1:2:3',
    'two doubles 1::2::3',
    'too many groups 1:2:3:4:5:6:7:8:9',
    'json {"a":1,"b":2}',
  ])('rejects %j', (text) => {
    expect(valuesOf('ip_address', text)).toEqual([]);
  });

  it('isIpv4', () => {
    expect(isIpv4('192.0.2.1')).toBe(true);
    expect(isIpv4('192.0.2')).toBe(false);
    expect(isIpv4('192.0.2.01')).toBe(false);
  });

  it('isIpv6 agrees with node:net on address-like strings (property)', () => {
    const piece = fc.oneof(
      fc.constantFrom(':', '::', '.', '0', '1', 'ff', 'abcd', '12345', '192.0.2.1', '255', 'g'),
      fc.stringMatching(/^[0-9a-f]{1,4}$/),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const s = parts.join('');
        expect(isIpv6(s)).toBe(isIPv6(s));
      }),
      { numRuns: 2000 },
    );
  });
});
