// The allowlisted helper modules a code step may ask for: pure functions from strings to strings,
// run on the host with bounded input. Nothing else from the host is reachable inside the sandbox.
// Loaded inside sandbox workers: imports stay minimal (node:crypto, types only).
import { createHash } from 'node:crypto';
import type { HelperModule } from '../definition/types.ts';

/** Longest string a helper accepts (host work is not covered by the sandbox's interrupt handler). */
export const MAX_HELPER_INPUT_CHARS = 64 * 1024;

export type HelperFunction = (...args: readonly (string | number)[]) => string;

function maskText(value: string | number, keepLast: string | number = 4): string {
  const s = String(value);
  const keep = Math.max(
    0,
    Math.min(typeof keepLast === 'number' ? Math.floor(keepLast) : 4, Math.floor(s.length / 2)),
  );
  return '*'.repeat(s.length - keep) + s.slice(s.length - keep);
}

function maskEmail(value: string | number): string {
  const s = String(value);
  const at = s.lastIndexOf('@');
  if (at <= 0) return maskText(s, 0);
  return `${s.slice(0, 1)}***${s.slice(at)}`;
}

/** Module name → function name → implementation. */
export const HELPERS: Readonly<Record<HelperModule, Readonly<Record<string, HelperFunction>>>> = {
  mask: {
    text: maskText,
    email: maskEmail,
  },
  hash: {
    sha256: (value) => createHash('sha256').update(String(value), 'utf8').digest('hex'),
  },
  text: {
    normalizeEmail: (value) => String(value).trim().toLowerCase(),
    collapseWhitespace: (value) => String(value).replace(/\s+/g, ' ').trim(),
  },
};
