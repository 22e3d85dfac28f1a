// The ledger's event catalog and the one gate every entry passes: a defensive check of the event
// shape, then its RFC 8785 canonical bytes. Events carry ids, field paths and digests; a value that
// is a registered secret is refused, and classified values (tagged objects) cannot canonicalize.
import { canonicalJson, type JsonValue } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import { scrubSecrets } from '../observe/index.ts';
import type { Actor, ActorKind, AuditEvent, Outcome, ResourceRef } from './audit-sink.ts';
import { hasControl } from './must.ts';

/** Policy limit of one entry's canonical bytes (the tile format allows 65535). */
export const MAX_ENTRY_BYTES = 16 * 1024;

type Details = Readonly<Record<string, JsonValue>>;

interface EventOf<A extends string, D extends Details | undefined> extends AuditEvent {
  readonly action: A;
  readonly details?: D;
}

/** `install.init` (system ledger): an installation was created with its first workspace. */
export type InstallInitEvent = EventOf<'install.init', { readonly bootstrapToken: 'issued' }>;

/** `key.*` (workspace ledger): keyring operations; details hold versions and counts, never key material. */
export type KeyEvent = EventOf<
  'key.workspace.init' | 'key.kek.rotate' | 'key.kek.rewrap' | 'key.kek.destroy' | 'key.subject.shred',
  Details
>;

/** `ai.prompt.decision` (workspace ledger): the AI prompt guard's verdict; finding counts, not the prompt. */
export type AiPromptDecisionEvent = EventOf<'ai.prompt.decision', Details>;

/** `iam.*`: sign-in, sessions, MFA, tokens, grants, elevation, access denials (workspace or system ledger). */
export type IamEvent = EventOf<`iam.${string}`, Details>;

/** `custody.*`: every step of an export bundle's life, naming the bundle digest. */
export type CustodyEvent = EventOf<`custody.${string}`, Details>;

/** `privacy.*`: reveals and detokenization of classified values (field paths, never values). */
export type PrivacyEvent = EventOf<`privacy.${string}`, Details>;

/** `secret.*`: secret writes, deletions, schedules and runtime resolution (names and versions, never values). */
export type SecretEvent = EventOf<`secret.${string}`, Details>;

/** Workflow runtime: deployments, runs and approval decisions. */
export type RuntimeEvent = EventOf<
  'workflow.deploy' | 'run.start' | 'run.finish' | 'approval.decide',
  Details
>;

/** `external.*`: recorded by an admin for something that happened elsewhere (incident, exercise, approval). */
export type ExternalEvent = EventOf<`external.${string}`, Details>;

/** The catalog (docs/ledger-events.md): every event kind, discriminated by `action`. */
export type LedgerEvent =
  | InstallInitEvent
  | KeyEvent
  | AiPromptDecisionEvent
  | IamEvent
  | CustodyEvent
  | PrivacyEvent
  | SecretEvent
  | RuntimeEvent
  | ExternalEvent;

const ACTOR_KINDS: readonly ActorKind[] = ['user', 'service', 'token', 'local-operator', 'system'];
const OUTCOMES: readonly Outcome[] = ['success', 'failure', 'denied'];
const EVENT_KEYS = new Set([
  'time',
  'actor',
  'action',
  'resource',
  'outcome',
  'purpose',
  'correlationId',
  'details',
]);
const ACTION = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*){1,7}$/;
const KIND = /^[a-z][a-z0-9._-]{0,63}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const CORRELATION = /^[A-Za-z0-9._:/@-]{1,128}$/;

function invalid(field: string, rule: string, where: string): CustosError {
  const at = where === '' ? field : `${where}${field}`;
  return new CustosError('LEDGER_EVENT_INVALID', `Event ${at}: ${rule}`, { details: { field: at, rule } });
}

function isObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function text(v: unknown, field: string, max: number, where: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || hasControl(v) || !v.isWellFormed()) {
    throw invalid(field, `string of 1 to ${max} printable characters`, where);
  }
  return v;
}

function ref(v: unknown, field: string, where: string): { kind: string; id: string } {
  if (!isObject(v)) throw invalid(field, 'object {kind, id}', where);
  for (const k of Object.keys(v))
    if (k !== 'kind' && k !== 'id') throw invalid(`${field}/${k}`, 'unknown key', where);
  if (typeof v.kind !== 'string' || !KIND.test(v.kind))
    throw invalid(`${field}/kind`, 'lowercase kind ^[a-z][a-z0-9._-]{0,63}$', where);
  return { kind: v.kind, id: text(v.id, `${field}/id`, 512, where) };
}

/**
 * Check an event's shape and return a copy holding only the event fields.
 * `where` prefixes field names in errors (e.g. `line 3 `). Throws LEDGER_EVENT_INVALID.
 */
export function checkEvent(value: unknown, where = ''): AuditEvent {
  if (!isObject(value)) throw invalid('/', 'a JSON object', where);
  for (const k of Object.keys(value)) if (!EVENT_KEYS.has(k)) throw invalid(`/${k}`, 'unknown key', where);
  const { time, action, outcome, purpose, correlationId, details } = value;
  if (typeof time !== 'string' || !TIME.test(time) || Number.isNaN(Date.parse(time))) {
    throw invalid('/time', 'ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SS[.fff]Z)', where);
  }
  const actor = ref(value.actor, '/actor', where);
  if (!ACTOR_KINDS.includes(actor.kind as ActorKind))
    throw invalid('/actor/kind', `one of ${ACTOR_KINDS.join(', ')}`, where);
  if (typeof action !== 'string' || action.length > 128 || !ACTION.test(action)) {
    throw invalid('/action', 'dotted lowercase name, e.g. key.kek.rotate', where);
  }
  const resource: ResourceRef = ref(value.resource, '/resource', where);
  if (typeof outcome !== 'string' || !OUTCOMES.includes(outcome as Outcome)) {
    throw invalid('/outcome', `one of ${OUTCOMES.join(', ')}`, where);
  }
  const event: {
    -readonly [K in keyof AuditEvent]: AuditEvent[K];
  } = { time, actor: actor as Actor, action, resource, outcome: outcome as Outcome };
  if (purpose !== undefined) event.purpose = text(purpose, '/purpose', 512, where);
  if (correlationId !== undefined) {
    if (typeof correlationId !== 'string' || !CORRELATION.test(correlationId)) {
      throw invalid('/correlationId', '1 to 128 of A-Z a-z 0-9 . _ : / @ -', where);
    }
    event.correlationId = correlationId;
  }
  if (details !== undefined) {
    if (!isObject(details)) throw invalid('/details', 'a JSON object', where);
    event.details = details as Details;
  }
  return event;
}

/** Strings JSON.stringify leaves as they are: no control, quote, backslash or surrogate. */
const VERBATIM = /^[ !#-[\]-\ud7ff\ue000-\uffff]*$/;

/** JSON.stringify of a string, skipped when no character needs escaping (the usual case). */
function quote(s: string): string {
  return VERBATIM.test(s) ? `"${s}"` : JSON.stringify(s);
}

/**
 * RFC 8785 text of a checked event. The fixed fields are laid out in their canonical key order
 * (action < actor < correlationId < details < outcome < purpose < resource < time; id < kind)
 * with JSON.stringify strings, which is what RFC 8785 §3.2.2.2 prescribes for well-formed strings
 * (checkEvent guarantees them); `details` goes through the general canonicalizer. A property test
 * holds this equal to canonicalJson of the same event.
 */
function canonicalEvent(e: AuditEvent): string {
  const q = quote;
  return (
    `{"action":${q(e.action)},"actor":{"id":${q(e.actor.id)},"kind":${q(e.actor.kind)}}` +
    (e.correlationId === undefined ? '' : `,"correlationId":${q(e.correlationId)}`) +
    (e.details === undefined ? '' : `,"details":${canonicalJson(e.details)}`) +
    `,"outcome":${q(e.outcome)}` +
    (e.purpose === undefined ? '' : `,"purpose":${q(e.purpose)}`) +
    `,"resource":{"id":${q(e.resource.id)},"kind":${q(e.resource.kind)}},"time":${q(e.time)}}`
  );
}

/**
 * The entry bytes of an event (pass it through checkEvent first): its RFC 8785 canonical JSON.
 * Throws LEDGER_EVENT_INVALID (details are not JSON, or the entry holds a registered secret value)
 * and LEDGER_ENTRY_TOO_LARGE.
 */
export function entryBytes(event: AuditEvent, where = ''): Buffer {
  return Buffer.from(entryText(event, where), 'utf8');
}

/** The entry of an event as text; see {@link entryBytes}. */
export function entryText(event: AuditEvent, where = ''): string {
  let text: string;
  try {
    text = canonicalEvent(event);
  } catch (cause) {
    const field =
      cause instanceof CustosError && typeof cause.details.field === 'string' ? cause.details.field : '';
    throw new CustosError('LEDGER_EVENT_INVALID', `Event ${where}/details${field}: not canonical JSON`, {
      cause,
      details: {
        field: `${where}/details${field === '/' ? '' : field}`,
        rule: 'JSON values only (no classified or binary values)',
      },
    });
  }
  // UTF-8 is at most 3 bytes per UTF-16 unit: measure exactly only when the bound is in doubt.
  const size = text.length * 3 <= MAX_ENTRY_BYTES ? text.length : Buffer.byteLength(text, 'utf8');
  if (size > MAX_ENTRY_BYTES) {
    throw new CustosError(
      'LEDGER_ENTRY_TOO_LARGE',
      `Event ${where}is ${size} bytes; the limit is ${MAX_ENTRY_BYTES}`,
      {
        details: { field: `${where}/`, rule: `at most ${MAX_ENTRY_BYTES} bytes of canonical JSON`, size },
      },
    );
  }
  if (scrubSecrets(text) !== text) {
    throw new CustosError('LEDGER_EVENT_INVALID', `Event ${where}holds a secret value`, {
      details: { field: `${where}/`, rule: 'ids, field paths and digests only, never secret values' },
    });
  }
  return text;
}

/** What an admin may write for an external event; the actor and time are set by Custos. */
export function checkExternalInput(value: unknown, actor: Actor, time: string, where = ''): AuditEvent {
  if (!isObject(value)) throw invalid('/', 'a JSON object', where);
  if ('actor' in value)
    throw invalid('/actor', 'set by Custos to the caller; put other parties in details', where);
  if ('time' in value) throw invalid('/time', 'set by Custos; put when it happened in details', where);
  const event = checkEvent({ outcome: 'success', ...value, actor, time }, where);
  if (!event.action.startsWith('external.')) throw invalid('/action', 'must start with external.', where);
  return event;
}
