// The only way a step talks to the outside: per connector allowlist, TLS unless a development host,
// DLP before a byte leaves, resolved and pinned addresses, redirects re-checked, size and time limits.
import { CustosError } from '../errors/index.ts';
import type { AuditSink } from '../ledger/index.ts';
import {
  compileConnectorPolicy,
  compileDevConfig,
  type CompiledConnectorPolicy,
  type CompiledDevConfig,
  type ConnectorEgressPolicy,
  type DevEgressConfig,
} from './connector-policy.ts';
import type { EgressContext } from './context.ts';
import { enforceDlp } from './dlp.ts';
import { normalizeHost } from './host-pattern.ts';
import { outboundError, sendHop, type HopResponse } from './http-hop.ts';
import {
  checkHeaderValue,
  parseOutboundUrl,
  prepareRequest,
  type EgressRequest,
  type PreparedHeader,
} from './request.ts';
import { resolveAndCheck, type CheckedHost, type HostResolver } from './resolve.ts';
import { withCorrelation } from '../ledger/index.ts';

/** Looks up a connector's policy (from the published workflow, config, …). */
export type ConnectorPolicySource = (connector: string) => ConnectorEgressPolicy | undefined;

export interface EgressClientOptions {
  readonly policies: ConnectorPolicySource;
  readonly audit: AuditSink;
  /** Development allowance; leave undefined in production. */
  readonly dev?: DevEgressConfig;
  /** Name resolution; default the system resolver. */
  readonly resolver?: HostResolver;
  /** Extra trust anchors for TLS (a private CA). Certificates are always verified. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
}

export interface FetchOptions {
  readonly context: EgressContext;
  readonly signal?: AbortSignal;
}

export interface EgressResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** The URL that produced this response, after redirects. */
  readonly url: string;
  readonly redirects: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function origin(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** Outbound HTTP client enforcing the connector's egress policy. */
export class EgressClient {
  readonly #options: EgressClientOptions;
  readonly #dev: CompiledDevConfig;
  // Keyed by the policy object, so a source that hands out a new policy is never served a stale one.
  readonly #compiled = new WeakMap<ConnectorEgressPolicy, CompiledConnectorPolicy>();

  /** Throws EGRESS_POLICY_INVALID when the development allowance is malformed. */
  constructor(options: EgressClientOptions) {
    this.#options = options;
    this.#dev = compileDevConfig(options.dev);
  }

  #policy(connector: string): CompiledConnectorPolicy {
    const source = this.#options.policies(connector);
    if (source === undefined) {
      throw new CustosError('EGRESS_CONNECTOR_UNKNOWN', 'Connector has no egress policy', {
        details: { field: 'connector', rule: 'declared connector', connector },
      });
    }
    if (source.connector !== connector) {
      throw new CustosError('EGRESS_POLICY_INVALID', 'Policy belongs to another connector', {
        details: { field: 'connector', rule: 'policy.connector equals the connector', connector },
      });
    }
    let compiled = this.#compiled.get(source);
    if (compiled === undefined) {
      compiled = compileConnectorPolicy(source);
      this.#compiled.set(source, compiled);
    }
    return compiled;
  }

  async #deny(context: EgressContext, action: string, connector: string, details: Record<string, string>) {
    await this.#options.audit.record(context.workspace, {
      time: new Date().toISOString(),
      actor: context.actor,
      action,
      resource: { kind: 'connector', id: connector },
      outcome: 'denied',
      ...withCorrelation(context.correlationId),
      details: { ...details, ...(context.runId === undefined ? {} : { runId: context.runId }) },
    });
  }

  /** Check one hop's target: allowlist, scheme, addresses. Records `egress.host.deny` / `egress.ssrf.deny`. */
  async #checkTarget(
    url: URL,
    policy: CompiledConnectorPolicy,
    options: FetchOptions,
    hop: number,
  ): Promise<CheckedHost> {
    const host = normalizeHost(url.hostname);
    const { context } = options;
    if (host === undefined || !policy.allows(host)) {
      await this.#deny(context, 'egress.host.deny', policy.connector, {
        host: host ?? '(invalid)',
        hop: String(hop),
      });
      throw new CustosError('EGRESS_HOST_NOT_ALLOWED', 'Host is not on the connector allowlist', {
        details: { field: 'url', rule: 'host on the connector allowlist', host: host ?? '(invalid)' },
      });
    }
    const dev = this.#dev.allows(host);
    if (url.protocol !== 'https:' && !dev) {
      await this.#deny(context, 'egress.tls.deny', policy.connector, { host, hop: String(hop) });
      throw new CustosError('EGRESS_TLS_REQUIRED', 'Outbound calls must use https', {
        details: { field: 'url', rule: 'https (plain http only for development hosts)', host },
      });
    }
    try {
      return await resolveAndCheck(host, {
        allowPrivateForDev: dev,
        ...(this.#options.resolver === undefined ? {} : { resolver: this.#options.resolver }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (err) {
      if (err instanceof CustosError && err.code === 'EGRESS_ADDRESS_FORBIDDEN') {
        const category = typeof err.details.category === 'string' ? err.details.category : 'unknown';
        await this.#deny(context, 'egress.ssrf.deny', policy.connector, { host, category, hop: String(hop) });
      }
      throw err;
    }
  }

  /**
   * Send `request` for `connector`. Throws EGRESS_CONNECTOR_UNKNOWN, EGRESS_POLICY_INVALID,
   * EGRESS_URL_INVALID, EGRESS_REQUEST_INVALID, EGRESS_REQUEST_TOO_LARGE, EGRESS_DLP_DENIED,
   * EGRESS_HOST_NOT_ALLOWED, EGRESS_TLS_REQUIRED, EGRESS_DNS_FAILED, EGRESS_ADDRESS_FORBIDDEN,
   * EGRESS_REDIRECT_LIMIT, EGRESS_TLS_FAILED, EGRESS_CONNECTION_FAILED, EGRESS_RESPONSE_TOO_LARGE,
   * EGRESS_TIMEOUT, EGRESS_ABORTED.
   */
  async fetch(connector: string, request: EgressRequest, options: FetchOptions): Promise<EgressResponse> {
    const policy = this.#policy(connector);
    const prepared = prepareRequest(request, policy.maxRequestBytes);
    let url = parseOutboundUrl(request.url);
    if (request.fields !== undefined) {
      await enforceDlp(this.#options.audit, options.context, connector, request.fields, policy.clearance);
    }
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
    const hopOptions: FetchOptions = { ...options, signal };
    const follow = request.followRedirects !== false;
    let { method, body, headers } = prepared;
    for (let redirects = 0; ; redirects++) {
      let response: HopResponse;
      try {
        const checked = await this.#checkTarget(url, policy, hopOptions, redirects);
        response = await sendHop({
          url,
          method,
          headers: materialize(headers, body),
          body,
          address: checked.addresses[0]?.address ?? '',
          maxResponseBytes: policy.maxResponseBytes,
          readBody: (status, h) => !(follow && REDIRECTS.has(status) && h.location !== undefined),
          signal,
          ...(this.#options.ca === undefined ? {} : { ca: this.#options.ca }),
        });
      } catch (err) {
        throw outboundError(err, signal);
      }
      const location = response.headers.location;
      if (!follow || !REDIRECTS.has(response.status) || location === undefined) {
        return {
          status: response.status,
          headers: response.headers,
          body: response.body,
          url: url.href,
          redirects,
        };
      }
      if (redirects >= policy.maxRedirects) {
        throw new CustosError('EGRESS_REDIRECT_LIMIT', 'Too many redirects', {
          details: { field: 'url', rule: `at most ${policy.maxRedirects} redirects` },
        });
      }
      const next = redirectTarget(url, location);
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method === 'POST')
      ) {
        // As browsers do (RFC 9110 §15.4): the redirected request is a GET without the body.
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        headers = headers.filter((h) => !BODY_HEADERS.has(h.name));
      }
      // Credentials were given for one origin; they never follow a redirect to another.
      if (origin(next) !== origin(url)) headers = headers.filter((h) => !h.sensitive);
      url = next;
    }
  }
}

const BODY_HEADERS = new Set(['content-type', 'content-encoding', 'content-language', 'content-location']);

function redirectTarget(current: URL, location: string): URL {
  let target: string;
  try {
    target = new URL(location, current).href;
  } catch (cause) {
    throw new CustosError('EGRESS_URL_INVALID', 'Redirect location cannot be parsed', {
      cause,
      details: { field: 'location', rule: 'URL' },
    });
  }
  return parseOutboundUrl(target);
}

/** The headers as written on the wire; revealable values are revealed here and nowhere earlier. */
function materialize(headers: readonly PreparedHeader[], body: Buffer | undefined): Record<string, string> {
  const out: Record<string, string> = { 'user-agent': 'custos' };
  for (const h of headers) {
    const value = typeof h.value === 'string' ? h.value : h.value.reveal();
    if (typeof h.value !== 'string') checkHeaderValue(`headers/${h.name}`, value);
    out[h.name] = value;
  }
  if (body !== undefined) out['content-length'] = String(body.length);
  return out;
}
