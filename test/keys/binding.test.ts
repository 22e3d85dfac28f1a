import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { binding } from '../../src/keys/binding.ts';

describe('key bindings (AAD)', () => {
  it('different label or parts never encode to the same bytes (property)', () => {
    const part = fc.oneof(fc.string({ maxLength: 8 }), fc.nat({ max: 999 }));
    const tuple = fc.tuple(fc.constantFrom('a', 'b', 'ab'), fc.array(part, { maxLength: 4 }));
    fc.assert(
      fc.property(tuple, tuple, ([l1, p1], [l2, p2]) => {
        const same = l1 === l2 && p1.length === p2.length && p1.every((v, i) => String(v) === String(p2[i]));
        expect(binding(l1, ...p1).equals(binding(l2, ...p2))).toBe(same);
      }),
      { numRuns: 2000 },
    );
  });
});
