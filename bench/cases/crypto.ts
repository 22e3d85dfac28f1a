// Crypto benchmarks: FF1 on a 16-digit PAN against the raw AES block calls its ten Feistel rounds need.
// The ratio is FF1's own cost (NUM/STR, BigInt arithmetic, Q building) above node:crypto's AES.
import { createCipheriv, randomBytes } from 'node:crypto';
import { createFf1, DIGITS } from '../../src/crypto/index.ts';
import { opsPerSecond, type BenchCase } from '../types.ts';

/** FF1 rounds; for a 16-digit PAN with a tweak of at most 11 bytes each round's PRF is one AES block once CIPH(P) is cached. */
const PRF_CALLS = 10;
const ITERATIONS = 40_000;

export const cases: BenchCase[] = [
  {
    name: 'ff1 encrypt 16-digit PAN',
    unit: 'ops/s',
    target: 0,
    run() {
      const key = randomBytes(32);
      const tweak = Buffer.from('card');
      const pans = Array.from({ length: 1024 }, (_, i) => String(4_000_000_000_000_000 + i * 7_919_111));
      const ff1 = createFf1(key, DIGITS);
      const ours = opsPerSecond(ITERATIONS, (i) => ff1.encrypt(pans[i % pans.length]!, tweak));

      // Baseline: the same number of single-block AES-256 encryptions on a reused ECB context, chained so
      // each depends on the last as FF1's rounds do.
      const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
      let block = randomBytes(16);
      const baseline = opsPerSecond(ITERATIONS, () => {
        for (let r = 0; r < PRF_CALLS; r++) block = ecb.update(block);
      });
      return Promise.resolve({
        ours,
        baseline,
        extra: {
          'aes blocks/s': baseline * PRF_CALLS,
          'µs per ff1 op': 1e6 / ours,
          'µs above its aes calls': 1e6 / ours - 1e6 / baseline,
        },
      });
    },
  },
];
