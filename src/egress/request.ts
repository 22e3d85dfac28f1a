// Validation of an outbound request before anything is resolved or sent: method, URL shape,
// headers (no smuggling, no transport headers) and body size. Errors name the part, never the value.
import { CustosError } from '../errors/index.ts';
import type { ClassifiedField } from './dlp.ts';

/** A header value that is revealed only when the request is written (e.g. a vault secret). */
export interface Revealable {
  reveal(): string;
}

export type HeaderValue = string | Revealable;

export interface EgressRequest {
  readonly url: string;
  /** Default GET. */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, HeaderValue>>;
  readonly body?: string | Uint8Array;
  /** Classified fields the body carries; checked against the connector clearance before sending. */
  readonly fields?: readonly ClassifiedField[];
  /** Default true; redirects are followed by the client, each target re-checked. */
  readonly followRedirects?: boolean;
}

export interface PreparedHeader {
  readonly name: string;
  readonly value: HeaderValue;
  /** Credentials: dropped when a redirect leaves the origin. */
  readonly sensitive: boolean;
}

export interface PreparedRequest {
  readonly method: string;
  readonly headers: readonly PreparedHeader[];
  readonly body: Buffer | undefined;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$/;
// Set by the client itself; a caller-supplied Host could reach another virtual host behind an allowed address.
const RESERVED = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-connection',
]);
const SENSITIVE = new Set(['authorization', 'proxy-authorization', 'cookie']);
const MAX_HEADERS = 100;
const MAX_HEADER_VALUE = 16 * 1024;
const MAX_URL = 8 * 1024;

function invalid(field: string, rule: string, message: string): CustosError {
  return new CustosError('EGRESS_REQUEST_INVALID', message, { details: { field, rule } });
}

/** Parse an outbound URL. Throws EGRESS_URL_INVALID (not http(s), credentials in it, unparsable). */
export function parseOutboundUrl(text: string): URL {
  if (text.length > MAX_URL) {
    throw new CustosError('EGRESS_URL_INVALID', 'URL is too long', {
      details: { field: 'url', rule: `at most ${MAX_URL} characters` },
    });
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new CustosError('EGRESS_URL_INVALID', 'URL cannot be parsed', {
      cause,
      details: { field: 'url', rule: 'absolute http(s) URL' },
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CustosError('EGRESS_URL_INVALID', 'Only http(s) URLs may be called', {
      details: { field: 'url', rule: 'scheme https (http for development hosts only)' },
    });
  }
  if (url.username !== '' || url.password !== '') {
    throw new CustosError(
      'EGRESS_URL_INVALID',
      'Credentials in the URL are not allowed; use a header from the vault',
      {
        details: { field: 'url', rule: 'no user:password@' },
      },
    );
  }
  return url;
}

/**
 * Validate method, headers and body against `maxRequestBytes`. Throws EGRESS_REQUEST_INVALID,
 * EGRESS_REQUEST_TOO_LARGE.
 */
export function prepareRequest(request: EgressRequest, maxRequestBytes: number): PreparedRequest {
  const method = request.method ?? 'GET';
  if (!METHODS.has(method)) {
    throw invalid('method', [...METHODS].join('|'), 'HTTP method is not allowed');
  }
  const entries = Object.entries(request.headers ?? {});
  if (entries.length > MAX_HEADERS) throw invalid('headers', `at most ${MAX_HEADERS}`, 'Too many headers');
  const headers: PreparedHeader[] = [];
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    const field = `headers/${TOKEN.test(name) ? lower : '?'}`;
    if (!TOKEN.test(name)) throw invalid(field, 'RFC 9110 token', 'Header name is invalid');
    if (RESERVED.has(lower) || lower.startsWith('proxy-')) {
      throw invalid(field, 'set by the egress client', 'Header may not be set by a step');
    }
    const sensitive = SENSITIVE.has(lower) || typeof value !== 'string';
    if (typeof value === 'string') checkHeaderValue(field, value);
    headers.push({ name: lower, value, sensitive });
  }
  let body: Buffer | undefined;
  if (request.body !== undefined) {
    body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : Buffer.from(request.body);
    if (method === 'GET' || method === 'HEAD')
      throw invalid('body', `no body with ${method}`, 'Request body not allowed');
  }
  if ((body?.length ?? 0) > maxRequestBytes) {
    throw new CustosError('EGRESS_REQUEST_TOO_LARGE', 'Request body exceeds the connector limit', {
      details: { field: 'body', rule: `at most ${maxRequestBytes} bytes` },
    });
  }
  return { method, headers, body };
}

/** Throws EGRESS_REQUEST_INVALID when a header value could split the request. */
export function checkHeaderValue(field: string, value: string): void {
  if (value.length > MAX_HEADER_VALUE || !isFieldValue(value)) {
    throw invalid(
      field,
      `at most ${MAX_HEADER_VALUE} visible Latin-1 characters, no CR/LF`,
      'Header value is invalid',
    );
  }
}

/** RFC 9110 field-value characters: tab, visible ASCII, obs-text; never CR, LF, NUL or other controls. */
function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== 0x09 && (c < 0x20 || c === 0x7f || c > 0xff)) return false;
  }
  return true;
}
