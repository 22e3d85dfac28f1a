// The BagIt declaration (bagit.txt, RFC 8493 §2.1.1) and bag-info.txt metadata (§2.2.2):
// label/value lines with continuation lines, Payload-Oxum (octet count "." stream count).
import { CustosError } from '../../errors/index.ts';

export const BAGIT_VERSION = '1.0';
const ACCEPTED_VERSIONS = new Set(['1.0', '0.97']);

function invalid(file: string, rule: string, line?: number): CustosError {
  return new CustosError('CUSTODY_BAGIT_INVALID', `${file} is invalid: ${rule}`, {
    details: { field: file, rule, ...(line === undefined ? {} : { line }) },
  });
}

export function formatBagitTxt(): Buffer {
  return Buffer.from(`BagIt-Version: ${BAGIT_VERSION}\nTag-File-Character-Encoding: UTF-8\n`, 'utf8');
}

/** Check bagit.txt; returns the declared version. Throws CUSTODY_BAGIT_INVALID. */
export function parseBagitTxt(bytes: Uint8Array, requireVersion?: string): string {
  const text = Buffer.from(bytes).toString('utf8');
  if (text.startsWith('\uFEFF')) throw invalid('bagit.txt', 'must not start with a byte-order mark');
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  if (lines.length !== 2)
    throw invalid('bagit.txt', 'must hold exactly BagIt-Version and Tag-File-Character-Encoding');
  const version = /^BagIt-Version: ([0-9]+\.[0-9]+)$/.exec(lines[0] ?? '')?.[1];
  if (version === undefined) throw invalid('bagit.txt', 'first line must be "BagIt-Version: M.N"', 1);
  if (!ACCEPTED_VERSIONS.has(version))
    throw invalid('bagit.txt', `BagIt-Version ${version} is not supported`, 1);
  if (requireVersion !== undefined && version !== requireVersion)
    throw invalid('bagit.txt', `BagIt-Version must be ${requireVersion}`, 1);
  if (lines[1] !== 'Tag-File-Character-Encoding: UTF-8')
    throw invalid('bagit.txt', 'second line must be "Tag-File-Character-Encoding: UTF-8"', 2);
  return version;
}

export type BagInfo = readonly (readonly [label: string, value: string])[];

/** bag-info.txt text: one `Label: value` line per entry, in the given order. */
export function formatBagInfo(info: BagInfo): Buffer {
  const lines = info.map(([label, value]) => {
    if (!/^[^:\s][^:\r\n]*[^:\s]$|^[^:\s]$/.test(label))
      throw invalid('bag-info.txt', `label ${JSON.stringify(label)} is not valid`);
    if (/[\r\n]/.test(value)) throw invalid('bag-info.txt', `value of ${label} has a line break`);
    return `${label}: ${value}\n`;
  });
  return Buffer.from(lines.join(''), 'utf8');
}

/** Parse bag-info.txt: labels keep their order and may repeat; continuation lines are joined. */
export function parseBagInfo(bytes: Uint8Array, maxLineLength: number): BagInfo {
  const text = Buffer.from(bytes).toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(Buffer.from(bytes))) throw invalid('bag-info.txt', 'not valid UTF-8');
  const out: [string, string][] = [];
  if (text.length === 0) return out;
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.length > maxLineLength)
      throw invalid('bag-info.txt', `line longer than ${maxLineLength} characters`, i + 1);
    const last = out[out.length - 1];
    if (/^[ \t]/.test(line)) {
      if (last === undefined) throw invalid('bag-info.txt', 'continuation line before any label', i + 1);
      last[1] = `${last[1]} ${line.trim()}`;
      return;
    }
    const m = /^([^:]+?):[ \t]*(.*)$/.exec(line);
    if (m === null || /^\s|\s$/.test(m[1] ?? ''))
      throw invalid('bag-info.txt', 'expected "Label: value"', i + 1);
    out.push([m[1] ?? '', (m[2] ?? '').trimEnd()]);
  });
  return out;
}

/** Values of `label` in order (labels compare case-insensitively, as RFC 8493 §2.2.2 suggests). */
export function bagInfoValues(info: BagInfo, label: string): string[] {
  const want = label.toLowerCase();
  return info.filter(([l]) => l.toLowerCase() === want).map(([, v]) => v);
}

export interface PayloadOxum {
  readonly octets: number;
  readonly streams: number;
}

export function formatOxum(oxum: PayloadOxum): string {
  return `${oxum.octets}.${oxum.streams}`;
}

/** Parse "octets.streams". Throws CUSTODY_BAGIT_INVALID. */
export function parseOxum(text: string): PayloadOxum {
  const m = /^([0-9]{1,16})\.([0-9]{1,9})$/.exec(text);
  if (m === null) throw invalid('bag-info.txt', 'Payload-Oxum must be "<octets>.<files>"');
  return { octets: Number(m[1]), streams: Number(m[2]) };
}
