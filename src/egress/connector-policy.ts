// A connector's outbound policy (allowed hosts, clearance, limits) and the development allowance,
// validated once into a compiled form the client checks every request and redirect against.
import { CustosError, type ErrorProblem } from '../errors/index.ts';
import { CLASSIFICATIONS, type Classification } from './classification.ts';
import { hostMatches, parseHostPattern, type HostPattern } from './host-pattern.ts';

/** Connector ids: lower-case, like workspace ids. */
export const CONNECTOR_ID = /^[a-z][a-z0-9-]{0,62}$/;

export const DEFAULT_LIMITS = {
  maxRequestBytes: 1024 * 1024,
  maxResponseBytes: 10 * 1024 * 1024,
  timeoutMs: 30_000,
  maxRedirects: 5,
} as const;

/** Hard ceilings no policy can raise. */
const CEILINGS = {
  maxRequestBytes: 64 * 1024 * 1024,
  maxResponseBytes: 256 * 1024 * 1024,
  timeoutMs: 10 * 60_000,
  maxRedirects: 5,
} as const;

export interface ConnectorEgressPolicy {
  readonly connector: string;
  /** Exact hosts or `*.suffix` wildcards; a port in the URL is allowed on a matching host. */
  readonly allowedHosts: readonly string[];
  /** The highest classification this connector may receive. */
  readonly clearance: Classification;
  readonly maxRequestBytes?: number;
  readonly maxResponseBytes?: number;
  readonly timeoutMs?: number;
  readonly maxRedirects?: number;
}

/**
 * Development allowance: hosts that may be reached over plain http and at loopback or private
 * addresses. Empty in production; never opens link-local or metadata addresses.
 */
export interface DevEgressConfig {
  readonly hosts: readonly string[];
}

export interface CompiledConnectorPolicy {
  readonly connector: string;
  readonly clearance: Classification;
  readonly maxRequestBytes: number;
  readonly maxResponseBytes: number;
  readonly timeoutMs: number;
  readonly maxRedirects: number;
  allows(host: string): boolean;
}

export interface CompiledDevConfig {
  allows(host: string): boolean;
}

function limit(
  problems: ErrorProblem[],
  value: number | undefined,
  name: keyof typeof CEILINGS,
  min: number,
): number {
  if (value === undefined) return DEFAULT_LIMITS[name];
  if (!Number.isInteger(value) || value < min || value > CEILINGS[name]) {
    problems.push({ field: name, rule: `integer ${min}..${CEILINGS[name]}` });
    return DEFAULT_LIMITS[name];
  }
  return value;
}

function patternsOf(problems: ErrorProblem[], entries: readonly string[], field: string): HostPattern[] {
  const out: HostPattern[] = [];
  entries.forEach((entry, i) => {
    try {
      out.push(parseHostPattern(entry, `${field}/${i}`));
    } catch (err) {
      if (!(err instanceof CustosError)) throw err;
      problems.push({ field: `${field}/${i}`, rule: err.details.rule ?? 'host pattern' });
    }
  });
  return out;
}

/** Validate and compile a connector policy. Throws EGRESS_POLICY_INVALID listing every problem. */
export function compileConnectorPolicy(policy: ConnectorEgressPolicy): CompiledConnectorPolicy {
  const problems: ErrorProblem[] = [];
  if (!CONNECTOR_ID.test(policy.connector)) problems.push({ field: 'connector', rule: CONNECTOR_ID.source });
  if (!(CLASSIFICATIONS as readonly string[]).includes(policy.clearance)) {
    problems.push({ field: 'clearance', rule: `one of ${CLASSIFICATIONS.join(', ')}` });
  }
  if (policy.allowedHosts.length === 0 || policy.allowedHosts.length > 256) {
    problems.push({ field: 'allowedHosts', rule: '1..256 entries' });
  }
  const patterns = patternsOf(problems, policy.allowedHosts, 'allowedHosts');
  const compiled = {
    connector: policy.connector,
    clearance: policy.clearance,
    maxRequestBytes: limit(problems, policy.maxRequestBytes, 'maxRequestBytes', 0),
    maxResponseBytes: limit(problems, policy.maxResponseBytes, 'maxResponseBytes', 1),
    timeoutMs: limit(problems, policy.timeoutMs, 'timeoutMs', 1),
    maxRedirects: limit(problems, policy.maxRedirects, 'maxRedirects', 0),
    allows: (host: string) => hostMatches(host, patterns),
  };
  if (problems.length > 0) {
    const first = problems[0];
    throw new CustosError('EGRESS_POLICY_INVALID', 'Connector egress policy is invalid', {
      details: { field: first?.field, rule: first?.rule, problems },
    });
  }
  return compiled;
}

/** Validate and compile the development allowance. Throws EGRESS_POLICY_INVALID. */
export function compileDevConfig(dev: DevEgressConfig | undefined): CompiledDevConfig {
  if (dev === undefined || dev.hosts.length === 0) return { allows: () => false };
  const problems: ErrorProblem[] = [];
  const patterns = patternsOf(problems, dev.hosts, 'dev/hosts');
  if (problems.length > 0) {
    throw new CustosError('EGRESS_POLICY_INVALID', 'Development egress allowance is invalid', {
      details: { field: problems[0]?.field, rule: problems[0]?.rule, problems },
    });
  }
  return { allows: (host: string) => hostMatches(host, patterns) };
}
