// Public surface of egress/: outbound policy (allowlists, TLS only, SSRF guard with pinned resolved
// addresses, redirects re-checked, size and time limits), DLP against classification, the AI guard.
export { parseIpLoose, parseIpv4Loose, parseIpv6, formatIp, endsInNumber } from './ip-parse.ts';
export type { IpAddress } from './ip-parse.ts';
export { checkAddress, embeddedIpv4 } from './address-policy.ts';
export type { AddressCategory, AddressVerdict, AddressCheckOptions } from './address-policy.ts';
export { resolveAndCheck, systemResolver } from './resolve.ts';
export type { CheckedHost, HostResolver, LookupAddress, ResolveOptions } from './resolve.ts';
export { normalizeHost, parseHostPattern, hostMatches } from './host-pattern.ts';
export type { HostPattern } from './host-pattern.ts';
export { CLASSIFICATIONS, classificationRank, withinClearance } from './classification.ts';
export type { Classification } from './classification.ts';
export {
  CONNECTOR_ID,
  DEFAULT_LIMITS,
  compileConnectorPolicy,
  compileDevConfig,
} from './connector-policy.ts';
export type {
  CompiledConnectorPolicy,
  CompiledDevConfig,
  ConnectorEgressPolicy,
  DevEgressConfig,
} from './connector-policy.ts';
export type { EgressContext } from './context.ts';
export { dlpCheck, enforceDlp } from './dlp.ts';
export type { ClassifiedField, DlpDecision } from './dlp.ts';
export { parseOutboundUrl } from './request.ts';
export type { EgressRequest, HeaderValue, Revealable } from './request.ts';
export { EgressClient } from './egress-client.ts';
export type {
  ConnectorPolicySource,
  EgressClientOptions,
  EgressResponse,
  FetchOptions,
} from './egress-client.ts';
export { guardPrompt, AiGuard, MAX_PROMPT_CHARS } from './ai-guard.ts';
export type {
  AiGuardOptions,
  AiKillSwitch,
  AiModel,
  PromptGuardResult,
  PromptPolicy,
  PromptPolicyMode,
} from './ai-guard.ts';
export { KillSwitches, scopeKey } from './kill-switch.ts';
export type { KillSwitchScope, KillSwitchState, KillSwitchesOptions } from './kill-switch.ts';
