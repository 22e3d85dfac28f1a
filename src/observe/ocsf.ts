// Security events out, as OCSF 1.3.0 (Open Cybersecurity Schema Framework) JSON: each ledger entry
// becomes one event of the class that fits its action (Authentication, Account Change, Entity
// Management, User Access Management, API Activity, Datastore Activity), or a Base Event when none
// does. Nothing is invented and nothing is dropped: what OCSF has no attribute for stays in
// `unmapped`, and `metadata` names the ledger and index the event came from, so a SIEM event can be
// proven against a signed checkpoint (`custos ledger prove`). Ledger entries hold no classified
// value or secret, so neither do these events.
import type { AuditEvent } from '../ledger/index.ts';

export const OCSF_SCHEMA_VERSION = '1.3.0';

/** OCSF classes used here: uid, name, category uid and name. */
const CLASSES = {
  base: { uid: 0, name: 'Base Event', category: 0, categoryName: 'Uncategorized' },
  accountChange: {
    uid: 3001,
    name: 'Account Change',
    category: 3,
    categoryName: 'Identity & Access Management',
  },
  authentication: {
    uid: 3002,
    name: 'Authentication',
    category: 3,
    categoryName: 'Identity & Access Management',
  },
  entity: { uid: 3004, name: 'Entity Management', category: 3, categoryName: 'Identity & Access Management' },
  userAccess: {
    uid: 3005,
    name: 'User Access Management',
    category: 3,
    categoryName: 'Identity & Access Management',
  },
  api: { uid: 6003, name: 'API Activity', category: 6, categoryName: 'Application Activity' },
  datastore: { uid: 6005, name: 'Datastore Activity', category: 6, categoryName: 'Application Activity' },
} as const;

type ClassKey = keyof typeof CLASSES;

/** Activity names of each class, by activity_id (99 is Other everywhere). */
const ACTIVITIES: Readonly<Record<ClassKey, Readonly<Record<number, string>>>> = {
  base: { 0: 'Unknown', 99: 'Other' },
  accountChange: {
    1: 'Create',
    2: 'Enable',
    3: 'Password Change',
    4: 'Password Reset',
    5: 'Disable',
    6: 'Delete',
    9: 'Lock',
    10: 'MFA Factor Enable',
    11: 'MFA Factor Disable',
    99: 'Other',
  },
  authentication: { 1: 'Logon', 2: 'Logoff', 99: 'Other' },
  entity: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
  userAccess: { 1: 'Assign Privileges', 2: 'Revoke Privileges', 99: 'Other' },
  api: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
  datastore: {
    1: 'Read',
    2: 'Update',
    4: 'Query',
    5: 'Write',
    6: 'Create',
    7: 'Delete',
    10: 'Decrypt',
    99: 'Other',
  },
};

/** [action, or prefix ending in '.', class, activity_id]: the first match wins. */
const RULES: readonly (readonly [string, ClassKey, number])[] = [
  ['iam.sign-in.lockout', 'accountChange', 9],
  ['iam.mfa.locked', 'accountChange', 9],
  ['iam.sign-in.', 'authentication', 1],
  ['iam.session.end', 'authentication', 2],
  ['iam.session.revoke', 'authentication', 2],
  ['iam.mfa.enroll', 'accountChange', 10],
  ['iam.mfa.reset', 'accountChange', 11],
  ['iam.mfa.', 'authentication', 99],
  ['iam.password.change', 'accountChange', 3],
  ['iam.user.create', 'accountChange', 1],
  ['iam.user.enable', 'accountChange', 2],
  ['iam.user.disable', 'accountChange', 5],
  ['iam.identity.link', 'accountChange', 99],
  ['iam.grant.create', 'userAccess', 1],
  ['iam.grant.revoke', 'userAccess', 2],
  ['iam.elevation.approve', 'userAccess', 1],
  ['iam.elevation.expire', 'userAccess', 2],
  ['iam.elevation.', 'userAccess', 99],
  ['iam.access.denied', 'api', 99],
  ['iam.token.create', 'entity', 1],
  ['iam.token.revoke', 'entity', 4],
  ['iam.workspace.create', 'entity', 1],
  ['iam.oidc.provider.set', 'entity', 3],
  ['key.workspace.init', 'entity', 1],
  ['key.kek.rotate', 'entity', 3],
  ['key.kek.rewrap', 'entity', 3],
  ['key.kek.destroy', 'entity', 4],
  ['key.subject.shred', 'entity', 4],
  ['key.', 'entity', 99],
  ['secret.resolve', 'entity', 2],
  ['secret.list', 'entity', 2],
  ['secret.delete', 'entity', 4],
  ['secret.', 'entity', 3],
  ['privacy.record.read', 'datastore', 1],
  ['privacy.record.reveal', 'datastore', 1],
  ['privacy.record.mask-export', 'datastore', 1],
  ['privacy.record.lookup', 'datastore', 4],
  ['privacy.record.import', 'datastore', 6],
  ['privacy.subject.erase', 'datastore', 7],
  ['privacy.record.', 'datastore', 5],
  ['privacy.detokenize', 'datastore', 10],
  ['privacy.token.detokenize', 'datastore', 10],
  ['privacy.', 'datastore', 99],
  ['custody.key.created', 'entity', 1],
  ['custody.key.rotated', 'entity', 3],
  ['custody.key.revoked', 'entity', 4],
  ['custody.definition.saved', 'entity', 1],
  ['custody.produced', 'datastore', 6],
  ['custody.archived', 'datastore', 5],
  ['custody.downloaded', 'datastore', 1],
  ['custody.deleted', 'datastore', 7],
  ['custody.repaired', 'datastore', 2],
  ['custody.', 'datastore', 99],
];

/** Actions that report harm, whatever their outcome: High severity. */
const HIGH_SEVERITY = new Set(['custody.integrity-failed']);

function classify(action: string): [ClassKey, number] {
  for (const [match, cls, activity] of RULES)
    if (match.endsWith('.') ? action.startsWith(match) : action === match) return [cls, activity];
  return ['base', 99];
}

/** OCSF user type_id for a ledger actor kind. */
const USER_TYPES: Readonly<Record<string, [number, string]>> = {
  user: [1, 'User'],
  system: [3, 'System'],
};

function userOf(kind: string, id: string): Record<string, unknown> {
  const [typeId, type] = USER_TYPES[kind] ?? [99, kind];
  return { uid: id, type_id: typeId, type };
}

export interface OcsfSource {
  /** The ledger the entry is in (`system` or a workspace id). */
  readonly ledger: string;
  /** The entry's index in that ledger. */
  readonly index: number;
}

export interface OcsfProduct {
  readonly version: string;
}

/** The OCSF 1.3.0 event for one ledger entry. */
export function toOcsf(event: AuditEvent, source: OcsfSource, product: OcsfProduct): Record<string, unknown> {
  const [key, activityId] = classify(event.action);
  const cls = CLASSES[key];
  const activityName = ACTIVITIES[key][activityId] ?? 'Other';
  const ok = event.outcome === 'success';
  const [severityId, severity]: [number, string] = HIGH_SEVERITY.has(event.action)
    ? [4, 'High']
    : ok
      ? [1, 'Informational']
      : event.outcome === 'denied'
        ? [3, 'Medium']
        : [2, 'Low'];
  const details = (event.details ?? {}) as Readonly<Record<string, unknown>>;
  const actor = { user: userOf(event.actor.kind, event.actor.id) };
  const out: Record<string, unknown> = {
    activity_id: activityId,
    activity_name: activityName,
    category_uid: cls.category,
    category_name: cls.categoryName,
    class_uid: cls.uid,
    class_name: cls.name,
    type_uid: cls.uid * 100 + activityId,
    type_name: `${cls.name}: ${activityName}`,
    time: Date.parse(event.time),
    severity_id: severityId,
    severity,
    status_id: ok ? 1 : 2,
    status: ok ? 'Success' : 'Failure',
    ...(ok ? {} : { status_detail: event.outcome }),
    action_id: event.outcome === 'denied' ? 2 : 1,
    action: event.outcome === 'denied' ? 'Denied' : 'Allowed',
    message: event.action,
    actor,
    metadata: {
      version: OCSF_SCHEMA_VERSION,
      product: { name: 'Custos', vendor_name: 'Custos', version: product.version },
      log_name: source.ledger,
      sequence: source.index,
      uid: `${source.ledger}/${source.index}`,
      original_time: event.time,
      ...(event.correlationId === undefined ? {} : { correlation_uid: event.correlationId }),
    },
    unmapped: {
      action: event.action,
      resource: event.resource,
      ...(event.purpose === undefined ? {} : { purpose: event.purpose }),
      ...(event.details === undefined ? {} : { details: event.details }),
    },
  };
  // The attributes each class requires.
  const subject =
    event.resource.kind === 'user'
      ? { uid: event.resource.id }
      : typeof details.user === 'string'
        ? { uid: details.user }
        : actor.user;
  switch (key) {
    case 'accountChange':
    case 'authentication':
      out.user = subject;
      break;
    case 'userAccess':
      out.user = subject;
      out.privileges = typeof details.role === 'string' ? [details.role] : [];
      break;
    case 'entity':
      out.entity = { uid: event.resource.id, type: event.resource.kind };
      break;
    case 'api':
      out.api = { operation: typeof details.action === 'string' ? details.action : event.action };
      out.src_endpoint = { name: 'custos' };
      break;
    case 'datastore':
      out.src_endpoint = { name: 'custos' };
      break;
    case 'base':
      break;
  }
  return out;
}

/** What `ledgerLines` reads: a ledger's id and its entries in index order. */
export interface ReadableLedger {
  readonly id: string;
  read(from: number, to?: number): AsyncIterable<{ readonly index: number; readonly entry: Buffer }>;
}

export type LedgerLineFormat = 'ocsf' | 'ledger';

/** One NDJSON line (without LF) per entry of [from, to): its OCSF event, or the entry as recorded. */
export async function* ledgerLines(
  ledger: ReadableLedger,
  from: number,
  to: number | undefined,
  format: LedgerLineFormat,
  product: OcsfProduct,
): AsyncGenerator<string> {
  for await (const { index, entry } of ledger.read(from, to)) {
    const text = entry.toString('utf8');
    yield format === 'ledger'
      ? text
      : JSON.stringify(toOcsf(JSON.parse(text) as AuditEvent, { ledger: ledger.id, index }, product));
  }
}
