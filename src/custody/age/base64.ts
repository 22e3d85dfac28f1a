// Unpadded standard base64 as the age header uses it, decoded strictly: only the canonical
// encoding of some byte string is accepted (no padding, no stray bits, no other alphabet).

const ALPHABET = /^[A-Za-z0-9+/]*$/;

export function b64encode(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64').replace(/=+$/, '');
}

/** The bytes of canonical unpadded base64 text, or undefined when the text is not canonical. */
export function b64decodeStrict(text: string): Buffer | undefined {
  if (!ALPHABET.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return b64encode(bytes) === text ? bytes : undefined;
}
