// Host names and allowlist patterns: normalization, validation and matching.
// A pattern is an exact host (`api.example.com`, `203.0.113.7`, `[2001:db8::1]`) or `*.suffix`.
import { domainToASCII } from 'node:url';
import { CustosError } from '../errors/index.ts';
import { formatIp, parseIpLoose } from './ip-parse.ts';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const MAX_HOST = 253;

/**
 * Normalize a host for comparison: lower case, no trailing dot, no IPv6 brackets, IP literals in
 * canonical form (so `0x7f.1` and `127.0.0.1` compare equal). Returns undefined when invalid.
 */
export function normalizeHost(host: string): string | undefined {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h.length === 0 || h.length > MAX_HOST) return undefined;
  const ip = parseIpLoose(h);
  if (ip !== undefined) return formatIp(ip);
  if (h.includes(':')) return undefined;
  // Internationalized names compare in their A-label (punycode) form, as URL hosts do.
  const ascii = /^[\x21-\x7e]*$/.test(h) ? h : domainToASCII(h);
  return ascii.split('.').every((l) => LABEL.test(l)) ? ascii : undefined;
}

/** A validated allowlist pattern. */
export type HostPattern =
  { readonly kind: 'exact'; readonly host: string } | { readonly kind: 'suffix'; readonly suffix: string };

/**
 * Parse one allowlist entry. `*.example.com` matches any host below example.com (not example.com
 * itself); a wildcard needs at least two labels after it. Throws EGRESS_POLICY_INVALID naming `field`.
 */
export function parseHostPattern(entry: string, field: string): HostPattern {
  const invalid = (rule: string) =>
    new CustosError('EGRESS_POLICY_INVALID', `${field}: not a valid host pattern`, {
      details: { field, rule },
    });
  if (entry.startsWith('*.')) {
    const suffix = normalizeHost(entry.slice(2));
    if (suffix === undefined || parseIpLoose(suffix) !== undefined) throw invalid('*.<dns name>');
    if (!suffix.includes('.')) throw invalid('wildcard needs at least two labels (*.example.com)');
    return { kind: 'suffix', suffix };
  }
  if (entry.includes('*')) throw invalid('wildcard only as a leading "*." label');
  const host = normalizeHost(entry);
  if (host === undefined) throw invalid('DNS name or IP literal');
  return { kind: 'exact', host };
}

/** True when normalized `host` matches one of `patterns`. */
export function hostMatches(host: string, patterns: readonly HostPattern[]): boolean {
  return patterns.some((p) => (p.kind === 'exact' ? p.host === host : host.endsWith(`.${p.suffix}`)));
}
