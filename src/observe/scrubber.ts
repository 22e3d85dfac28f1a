// Secret values registered with the process are scrubbed by value from every log line, error
// message and output the edges print. Values are kept only in memory, never logged themselves.

const MIN_SECRET_LENGTH = 6;
const registered = new Set<string>();
let ordered: string[] = [];

/** Register a secret value (and its common encodings) so it is scrubbed everywhere. */
export function registerSecret(value: string | Uint8Array): void {
  const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
  if (text.length < MIN_SECRET_LENGTH) return;
  const forms = [
    text,
    Buffer.from(text).toString('base64'),
    Buffer.from(text).toString('base64url'),
    encodeURIComponent(text),
  ];
  for (const form of forms) registered.add(form);
  // Longest first, so a value that contains another is removed whole.
  ordered = [...registered].sort((a, b) => b.length - a.length);
}

/** Forget every registered secret (tests, and rotation of short-lived values). */
export function clearSecrets(): void {
  registered.clear();
  ordered = [];
}

export const SCRUBBED = '[secret]';

/** Replace every registered secret value in `text`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of ordered) {
    if (out.includes(secret)) out = out.replaceAll(secret, SCRUBBED);
  }
  return out;
}
