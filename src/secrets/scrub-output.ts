// Removal of resolved secret values from what a step produces (outputs, error text) before the
// runtime stores or shows it: every string, and every member name, passes the scrubber.
import { scrubSecrets } from '../observe/index.ts';

const MAX_DEPTH = 64;

/**
 * A deep copy of `value` with every registered secret replaced by `[secret]`. Strings are scrubbed,
 * member names too; numbers, booleans and null pass; byte arrays are decoded as UTF-8, scrubbed
 * and re-encoded when they held a secret. Deeper than 64 levels becomes `[depth]`.
 */
export function scrubOutput(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return '[depth]';
  if (value instanceof Uint8Array) {
    const text = Buffer.from(value).toString('utf8');
    const clean = scrubSecrets(text);
    return clean === text ? value : Buffer.from(clean, 'utf8');
  }
  if (Array.isArray(value)) return value.map((v: unknown) => scrubOutput(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[scrubSecrets(k)] = scrubOutput(v, depth + 1);
  return out;
}
