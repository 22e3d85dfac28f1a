// One outbound HTTP exchange (no redirect handling) to an address checked beforehand: the socket is
// pinned to it through the `lookup` hook, and the response body is streamed under a byte limit.
import type { LookupFunction } from 'node:net';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CustosError } from '../errors/index.ts';

export interface HopRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | undefined;
  /** The checked address the connection must go to. */
  readonly address: string;
  readonly maxResponseBytes: number;
  /** Given the response head; when false the body is discarded unread (redirect responses). */
  readonly readBody: (status: number, headers: IncomingHttpHeaders) => boolean;
  readonly signal: AbortSignal;
  /** Extra trust anchors (a private CA); certificates are always verified. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
}

export interface HopResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const TLS_ERROR = /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME/i;

function pinnedLookup(address: string): LookupFunction {
  const family = address.includes(':') ? 6 : 4;
  // Whatever name the socket asks for, it gets the address that passed the SSRF check.
  return (_hostname, options, callback) => {
    if (options.all === true) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** Map a failure of an outbound exchange to its egress error; cancellation wins over the symptom it caused. */
export function outboundError(err: unknown, signal: AbortSignal): CustosError {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof CustosError) return reason;
    const timeout = reason instanceof Error && reason.name === 'TimeoutError';
    return timeout
      ? new CustosError('EGRESS_TIMEOUT', 'Outbound request timed out', {
          cause: err,
          details: { rule: 'timeoutMs' },
        })
      : new CustosError('EGRESS_ABORTED', 'Outbound request was cancelled', { cause: err });
  }
  if (err instanceof CustosError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TLS_ERROR.test(code)) {
    return new CustosError('EGRESS_TLS_FAILED', 'TLS handshake or certificate verification failed', {
      cause: err,
      details: { rule: 'valid certificate for the host', tlsError: code },
    });
  }
  return new CustosError('EGRESS_CONNECTION_FAILED', 'Outbound connection failed', {
    cause: err,
    details: typeof code === 'string' ? { networkError: code } : {},
  });
}

function tooLarge(limit: number): CustosError {
  return new CustosError('EGRESS_RESPONSE_TOO_LARGE', 'Response body exceeds the connector limit', {
    details: { field: 'response', rule: `at most ${limit} bytes` },
  });
}

function readLimited(res: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const declared = Number(res.headers['content-length'] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > limit) {
      res.destroy();
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        res.destroy(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => {
      resolve(Buffer.concat(chunks, size));
    });
    res.on('error', reject);
    res.on('aborted', () => {
      reject(new Error('response aborted'));
    });
  });
}

/**
 * Perform one exchange. Throws EGRESS_TIMEOUT, EGRESS_ABORTED, EGRESS_TLS_FAILED,
 * EGRESS_CONNECTION_FAILED, EGRESS_RESPONSE_TOO_LARGE.
 */
export function sendHop(hop: HopRequest): Promise<HopResponse> {
  const send = hop.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<HopResponse>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(outboundError(err, hop.signal));
    };
    if (hop.signal.aborted) {
      fail(hop.signal.reason);
      return;
    }
    const req = send(hop.url, {
      method: hop.method,
      headers: hop.headers,
      lookup: pinnedLookup(hop.address),
      // A fresh connection per exchange: a pooled socket could belong to an earlier, different pin.
      agent: false,
      signal: hop.signal,
      rejectUnauthorized: true,
      ...(hop.ca === undefined ? {} : { ca: hop.ca as string | Buffer | (string | Buffer)[] }),
    });
    req.on('error', fail);
    req.on('response', (res) => {
      const head = { status: res.statusCode ?? 0, headers: res.headers };
      if (!hop.readBody(head.status, res.headers)) {
        res.destroy();
        settled = true;
        resolve({ ...head, body: Buffer.alloc(0) });
        return;
      }
      readLimited(res, hop.maxResponseBytes).then(
        (body) => {
          if (settled) return;
          settled = true;
          resolve({ ...head, body });
        },
        (err: unknown) => {
          req.destroy();
          fail(err);
        },
      );
    });
    req.end(hop.body);
  });
}
