// The age v1 header (age-encryption.org/v1): recipient stanzas and the header MAC, encoded
// canonically and parsed strictly, so every malformed header is a header failure.
import { CustosError } from '../../errors/index.ts';
import type { ByteReader } from '../io/byte-reader.ts';
import { b64decodeStrict, b64encode } from './base64.ts';

export const VERSION_LINE = 'age-encryption.org/v1';
const MAX_HEADER_BYTES = 64 * 1024;
const MAX_STANZAS = 1000;
const BODY_LINE_BYTES = 48;

export interface Stanza {
  readonly args: readonly string[];
  readonly body: Buffer;
}

export interface ParsedHeader {
  readonly stanzas: readonly Stanza[];
  readonly mac: Buffer;
  /** The header bytes covered by the MAC: everything up to and including `---`. */
  readonly macInput: Buffer;
}

function headerError(rule: string): CustosError {
  return new CustosError('CUSTODY_AGE_HEADER_INVALID', `age header is malformed: ${rule}`, {
    details: { field: 'age header', rule },
  });
}

/** Encode stanzas (without the MAC line's value): the bytes the MAC covers. */
export function encodeHeaderNoMac(stanzas: readonly Stanza[]): Buffer {
  const lines: string[] = [`${VERSION_LINE}\n`];
  for (const s of stanzas) {
    lines.push(`-> ${s.args.join(' ')}\n`);
    for (let i = 0; i < s.body.length; i += BODY_LINE_BYTES) {
      lines.push(`${b64encode(s.body.subarray(i, i + BODY_LINE_BYTES))}\n`);
    }
    // The final body line is always shorter than a full one, so a full last line is followed by an empty one.
    if (s.body.length % BODY_LINE_BYTES === 0) lines.push('\n');
  }
  lines.push('---');
  return Buffer.from(lines.join(''), 'latin1');
}

export function encodeHeader(stanzas: readonly Stanza[], mac: Uint8Array): Buffer {
  return Buffer.concat([encodeHeaderNoMac(stanzas), Buffer.from(` ${b64encode(mac)}\n`, 'latin1')]);
}

function isVchar(arg: string): boolean {
  for (let i = 0; i < arg.length; i++) {
    const c = arg.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

async function line(reader: ByteReader, budget: { left: number }): Promise<string> {
  const raw = await reader.readLine(Math.min(budget.left, 4096));
  if (raw === undefined) throw headerError('header is truncated, too large, or has an overlong line');
  budget.left -= raw.length;
  const text = raw.subarray(0, -1);
  for (const b of text)
    if (b < 0x20 || b > 0x7e) throw headerError('non-printable byte in header (CR, control or non-ASCII)');
  return text.toString('latin1');
}

/**
 * Read and check the header from `reader`, leaving it positioned at the payload nonce.
 * Throws CUSTODY_AGE_HEADER_INVALID.
 */
export async function readHeader(reader: ByteReader): Promise<ParsedHeader> {
  const budget = { left: MAX_HEADER_BYTES };
  const transcript: string[] = [];
  const first = await line(reader, budget);
  if (first !== VERSION_LINE) throw headerError('unknown version line');
  transcript.push(`${first}\n`);
  const stanzas: Stanza[] = [];
  for (;;) {
    const next = await line(reader, budget);
    if (next.startsWith('---')) {
      if (!next.startsWith('--- ')) throw headerError('malformed MAC line');
      const mac = b64decodeStrict(next.slice(4));
      if (mac?.length !== 32) throw headerError('MAC is not canonical base64 of 32 bytes');
      transcript.push('---');
      return { stanzas, mac, macInput: Buffer.from(transcript.join(''), 'latin1') };
    }
    if (!next.startsWith('-> ')) throw headerError('expected a stanza ("-> ") or the MAC line ("--- ")');
    const args = next.slice(3).split(' ');
    if (args.some((a) => a.length === 0 || !isVchar(a)))
      throw headerError('empty or invalid stanza argument');
    if (stanzas.length >= MAX_STANZAS) throw headerError(`more than ${MAX_STANZAS} stanzas`);
    transcript.push(`${next}\n`);
    const body: Buffer[] = [];
    for (;;) {
      const text = await line(reader, budget);
      if (text.length > 64) throw headerError('stanza body line longer than 64 columns');
      const bytes = b64decodeStrict(text);
      if (bytes === undefined) throw headerError('stanza body is not canonical unpadded base64');
      transcript.push(`${text}\n`);
      body.push(bytes);
      if (bytes.length < BODY_LINE_BYTES) break;
    }
    stanzas.push({ args, body: Buffer.concat(body) });
  }
}
