// Name resolution for outbound calls: every address a name resolves to must pass the SSRF policy,
// and the caller connects to one of exactly those checked addresses (no second lookup).
import { lookup as dnsLookup } from 'node:dns/promises';
import { CustosError } from '../errors/index.ts';
import { checkAddress, type AddressCategory, type AddressVerdict } from './address-policy.ts';
import { normalizeHost } from './host-pattern.ts';
import { endsInNumber, parseIpLoose } from './ip-parse.ts';

/** A resolved address as node:dns reports it. */
export interface LookupAddress {
  readonly address: string;
  readonly family: number;
}

/** Resolves a name to all of its addresses (injectable for tests and custom resolvers). */
export type HostResolver = (host: string) => Promise<readonly LookupAddress[]>;

export interface ResolveOptions {
  readonly allowPrivateForDev?: boolean;
  readonly resolver?: HostResolver;
  readonly signal?: AbortSignal;
}

/** A host whose every address passed the policy; connect only to `addresses`. */
export interface CheckedHost {
  readonly host: string;
  readonly literal: boolean;
  readonly addresses: readonly AddressVerdict[];
}

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), all addresses in resolver order. */
export const systemResolver: HostResolver = async (host) => dnsLookup(host, { all: true, order: 'verbatim' });

/** Thrown when a host or one of its addresses is refused; `category` says which rule. */
export function forbidden(host: string, category: AddressCategory): CustosError {
  return new CustosError('EGRESS_ADDRESS_FORBIDDEN', `Outbound connection refused: ${category} address`, {
    details: { field: 'host', rule: `public unicast address (got ${category})`, host, category },
  });
}

async function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort);
    });
  });
}

/**
 * Resolve `host` and check every address. An IP literal in any spelling is checked without DNS.
 * Throws EGRESS_URL_INVALID (malformed host), EGRESS_DNS_FAILED (no answer),
 * EGRESS_ADDRESS_FORBIDDEN (any address is loopback, private, link-local, metadata, …).
 */
export async function resolveAndCheck(host: string, options: ResolveOptions = {}): Promise<CheckedHost> {
  const normalized = normalizeHost(host);
  if (normalized === undefined) {
    throw new CustosError('EGRESS_URL_INVALID', 'Host is not a valid DNS name or IP address', {
      details: { field: 'host', rule: 'DNS name or IP literal' },
    });
  }
  const check = { allowPrivateForDev: options.allowPrivateForDev === true };
  const literal = parseIpLoose(normalized);
  if (literal !== undefined) {
    const verdict = checkAddress(literal, check);
    if (!verdict.allowed) throw forbidden(normalized, verdict.category);
    return { host: normalized, literal: true, addresses: [verdict] };
  }
  if (endsInNumber(normalized)) {
    throw new CustosError('EGRESS_URL_INVALID', 'Host ends in a number but is not a valid IPv4 address', {
      details: { field: 'host', rule: 'valid IPv4 literal or DNS name' },
    });
  }
  let answers: readonly LookupAddress[];
  try {
    answers = await raceAbort((options.resolver ?? systemResolver)(normalized), options.signal);
  } catch (cause) {
    if (options.signal?.aborted === true) throw cause;
    throw new CustosError('EGRESS_DNS_FAILED', 'Host name could not be resolved', {
      cause,
      details: { field: 'host', rule: 'resolvable name', host: normalized },
    });
  }
  if (answers.length === 0) {
    throw new CustosError('EGRESS_DNS_FAILED', 'Host name resolved to no address', {
      details: { field: 'host', rule: 'resolvable name', host: normalized },
    });
  }
  const verdicts = answers.map((a) => checkAddress(a.address, check));
  // One bad address poisons the name: a resolver may hand out any of them on the next lookup.
  const bad = verdicts.find((v) => !v.allowed);
  if (bad !== undefined) throw forbidden(normalized, bad.category);
  return { host: normalized, literal: false, addresses: verdicts };
}
