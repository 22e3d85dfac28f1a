// Detection of credentials written inline where a `secrets.NAME` reference belongs: known token
// shapes, Bearer/Basic values, private keys, passwords in URLs and high-entropy strings.
// Findings name the kind of credential, never the value.

/** What a string looked like; used in problem messages. */
export type CredentialKind =
  | 'private key'
  | 'AWS access key'
  | 'API key (sk-…)'
  | 'Stripe key'
  | 'GitHub token'
  | 'Slack token'
  | 'Google API key'
  | 'JSON Web Token'
  | 'Bearer token'
  | 'Basic credentials'
  | 'password in URL'
  | 'high-entropy string';

const PATTERNS: readonly (readonly [CredentialKind, RegExp])[] = [
  ['private key', /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/],
  ['AWS access key', /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/],
  ['API key (sk-…)', /\bsk-(?:[a-z]{2,8}-)?[A-Za-z0-9_-]{16,}/],
  ['Stripe key', /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}/],
  ['GitHub token', /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})/],
  ['Slack token', /\bxox[abposr]-[A-Za-z0-9-]{10,}/],
  ['Google API key', /\bAIza[0-9A-Za-z_-]{35}/],
  ['JSON Web Token', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
  ['password in URL', /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i],
];

const BEARER = /\bBearer\s+([A-Za-z0-9._~+/=-]{12,})/gi;
const BASIC = /\bBasic\s+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])/g;
const TOKEN = /[A-Za-z0-9+/=_-]{24,}/g;
const TEMPLATE = /\{\{[^}]*\}\}/g;

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    h -= p * Math.log2(p);
  }
  return h;
}

function characterClasses(text: string): number {
  return [/[a-z]/, /[A-Z]/, /[0-9]/, /[+/=_-]/].filter((re) => re.test(text)).length;
}

/** Random-looking: long, mixing classes, and denser than hex or words can be. */
function looksRandom(token: string): boolean {
  if (token.length < 24 || characterClasses(token) < 3) return false;
  // Hex tops out at 4 bits/char; random base64/base62 of this length sits well above 4.2.
  return shannonEntropy(token) >= 4.2;
}

function bearerLooksReal(token: string): boolean {
  return /[0-9]/.test(token) || (/[a-z]/.test(token) && /[A-Z]/.test(token)) || token.length >= 32;
}

function basicLooksReal(token: string): boolean {
  const decoded = Buffer.from(token, 'base64').toString('latin1');
  return decoded.includes(':') && /^[\x20-\x7e]+$/.test(decoded);
}

/**
 * The kind of the first credential found in `text`, or undefined. Template expressions
 * (`{{ secrets.NAME }}`) are ignored, so `Bearer {{ secrets.TOKEN }}` passes.
 */
export function findCredential(text: string): CredentialKind | undefined {
  if (text.length < 8) return undefined;
  const literal = text.replace(TEMPLATE, ' ');
  for (const [kind, re] of PATTERNS) if (re.test(literal)) return kind;
  for (const m of literal.matchAll(BEARER))
    if (m[1] !== undefined && bearerLooksReal(m[1])) return 'Bearer token';
  for (const m of literal.matchAll(BASIC))
    if (m[1] !== undefined && basicLooksReal(m[1])) return 'Basic credentials';
  for (const m of literal.matchAll(TOKEN)) if (looksRandom(m[0])) return 'high-entropy string';
  return undefined;
}

/** Keys whose literal value would be a credential (`password`, `apiKey`, `Authorization` …). */
export const CREDENTIAL_KEY =
  /pass(?:word|phrase)|secret|token|api[-_]?key|private[-_]?key|credential|authorization|cookie/i;
