// Cookie parsing and serialization for the session and SSO binding cookies: `__Host-` names
// (Secure, Path=/, no Domain), HttpOnly, SameSite=Lax.
export const SESSION_COOKIE = '__Host-custos_session';
export const OIDC_COOKIE = '__Host-custos_oidc';

/** Cookies of a request header; the first occurrence of a name wins, oversized headers are ignored. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined || header.length > 8192) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!out.has(name) && /^[\x21-\x7e]{0,512}$/.test(value)) out.set(name, value);
  }
  return out;
}

/** A Set-Cookie value; `maxAgeSeconds` 0 deletes the cookie. */
export function serializeCookie(name: string, value: string, maxAgeSeconds?: number): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax'];
  if (maxAgeSeconds !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`);
  return parts.join('; ');
}
