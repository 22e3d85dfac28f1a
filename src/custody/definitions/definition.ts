// Export definitions: which record types and fields leave, how each field is treated (clear only
// with a purpose grant, else masked or tokenized), who may trigger, why, to whom, and how long the
// archived copy is kept. Parsed defensively; every problem names its field.
import { canonicalJsonBytes, sha256Hex } from '../../crypto/index.ts';
import { CustosError, type ErrorProblem } from '../../errors/index.ts';
import { parseRecipient } from '../age/index.ts';
import type { CustodyRole } from '../roles.ts';

export type FieldTreatment = 'clear' | 'mask' | 'tokenize';

export interface FieldRule {
  /** What the definition allows for this field. */
  readonly treatment: FieldTreatment;
  /** What is exported when the caller may not see the clear value. */
  readonly fallback: 'mask' | 'tokenize';
}

export interface RecordSelection {
  readonly type: string;
  readonly fields: Readonly<Record<string, FieldRule>>;
}

export interface ExportDefinitionSpec {
  readonly name: string;
  readonly description?: string;
  readonly outputSchemaVersion: number;
  readonly records: readonly RecordSelection[];
  readonly triggeredBy: readonly CustodyRole[];
  readonly purpose: string;
  readonly recipients: readonly string[];
  /** Days the archived copy is kept before it may be deleted. */
  readonly retentionDays: number;
  readonly sourceOrganization: string;
}

export interface ExportDefinition extends ExportDefinitionSpec {
  readonly workspaceId: string;
  readonly version: number;
  /** `sha256:<hex>` of the RFC 8785 spec. */
  readonly digest: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const TYPE = /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,7}$/;
const ROLES: readonly CustodyRole[] = ['exporter', 'admin', 'auditor'];
const TREATMENTS: readonly string[] = ['clear', 'mask', 'tokenize'];
const MAX_TEXT = 512;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function printableLine(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT && !/\p{Cc}/u.test(v);
}

/** Parse a definition document (from YAML or JSON). Throws CUSTODY_DEFINITION_INVALID listing every problem. */
export function parseDefinitionSpec(value: unknown): ExportDefinitionSpec {
  const problems: ErrorProblem[] = [];
  const bad = (field: string, rule: string): void => {
    problems.push({ field, rule });
  };
  if (!isRecord(value)) {
    throw new CustosError('CUSTODY_DEFINITION_INVALID', 'Export definition must be an object', {
      details: { field: '/', rule: 'object' },
    });
  }
  const known = new Set([
    'name',
    'description',
    'outputSchemaVersion',
    'records',
    'triggeredBy',
    'purpose',
    'recipients',
    'retentionDays',
    'sourceOrganization',
  ]);
  for (const k of Object.keys(value)) if (!known.has(k)) bad(`/${k}`, 'unknown key');
  const {
    name,
    description,
    outputSchemaVersion,
    records,
    triggeredBy,
    purpose,
    recipients,
    retentionDays,
    sourceOrganization,
  } = value;
  if (typeof name !== 'string' || !NAME.test(name)) bad('/name', 'lowercase name ^[a-z][a-z0-9-]{0,62}$');
  if (description !== undefined && !printableLine(description))
    bad('/description', `one line of at most ${MAX_TEXT} characters`);
  if (!Number.isSafeInteger(outputSchemaVersion) || (outputSchemaVersion as number) < 1)
    bad('/outputSchemaVersion', 'integer ≥ 1');
  if (!printableLine(purpose)) bad('/purpose', `one line of at most ${MAX_TEXT} characters`);
  if (!printableLine(sourceOrganization))
    bad('/sourceOrganization', `one line of at most ${MAX_TEXT} characters`);
  if (
    !Number.isSafeInteger(retentionDays) ||
    (retentionDays as number) < 0 ||
    (retentionDays as number) > 100 * 366
  )
    bad('/retentionDays', 'integer days, 0 to 36600');
  const roles: CustodyRole[] = [];
  if (!Array.isArray(triggeredBy) || triggeredBy.length === 0)
    bad('/triggeredBy', `non-empty list of ${ROLES.join(', ')}`);
  else
    triggeredBy.forEach((r: unknown, i) => {
      if (ROLES.includes(r as CustodyRole)) roles.push(r as CustodyRole);
      else bad(`/triggeredBy/${i}`, `one of ${ROLES.join(', ')}`);
    });
  const recips: string[] = [];
  if (recipients !== undefined) {
    if (!Array.isArray(recipients) || recipients.length > 100) bad('/recipients', 'list of age1… recipients');
    else
      recipients.forEach((r: unknown, i) => {
        try {
          recips.push(parseRecipient(String(r), `/recipients/${i}`).text);
        } catch {
          bad(`/recipients/${i}`, 'age1… X25519 recipient');
        }
      });
  }
  const selections: RecordSelection[] = [];
  if (!Array.isArray(records) || records.length === 0 || records.length > 100)
    bad('/records', 'non-empty list of record selections');
  else
    records.forEach((sel: unknown, i) => {
      const at = `/records/${i}`;
      if (!isRecord(sel)) {
        bad(at, 'object {type, fields}');
        return;
      }
      for (const k of Object.keys(sel)) if (k !== 'type' && k !== 'fields') bad(`${at}/${k}`, 'unknown key');
      if (typeof sel.type !== 'string' || !TYPE.test(sel.type)) bad(`${at}/type`, 'record type name');
      if (selections.some((s) => s.type === sel.type)) bad(`${at}/type`, 'each type once');
      if (!isRecord(sel.fields) || Object.keys(sel.fields).length === 0) {
        bad(`${at}/fields`, 'non-empty map of field → treatment');
        return;
      }
      const fields: Record<string, FieldRule> = {};
      for (const [f, rule] of Object.entries(sel.fields)) {
        if (!FIELD.test(f) || f === '__proto__') bad(`${at}/fields/${f}`, 'field path a.b.c');
        const r = typeof rule === 'string' ? { treatment: rule } : rule;
        if (!isRecord(r) || !TREATMENTS.includes(String(r.treatment))) {
          bad(`${at}/fields/${f}`, 'clear, mask, tokenize, or {treatment, fallback}');
          continue;
        }
        const fallback = r.fallback ?? 'mask';
        if (fallback !== 'mask' && fallback !== 'tokenize')
          bad(`${at}/fields/${f}/fallback`, 'mask or tokenize');
        fields[f] = { treatment: r.treatment as FieldTreatment, fallback: fallback as 'mask' | 'tokenize' };
      }
      selections.push({ type: String(sel.type), fields });
    });
  const [first] = problems;
  if (first !== undefined) {
    throw new CustosError(
      'CUSTODY_DEFINITION_INVALID',
      `Export definition is invalid: ${first.field}: ${first.rule}`,
      {
        details: { field: first.field, rule: first.rule, problems },
      },
    );
  }
  return {
    name: name as string,
    ...(description === undefined ? {} : { description: description as string }),
    outputSchemaVersion: outputSchemaVersion as number,
    records: selections,
    triggeredBy: roles,
    purpose: purpose as string,
    recipients: recips,
    retentionDays: retentionDays as number,
    sourceOrganization: sourceOrganization as string,
  };
}

/** RFC 8785 bytes of a spec (what is stored and hashed). */
export function specBytes(spec: ExportDefinitionSpec): Buffer {
  return canonicalJsonBytes(spec);
}

export function specDigest(spec: ExportDefinitionSpec): string {
  return `sha256:${sha256Hex(specBytes(spec))}`;
}

/**
 * The treatment each field gets for this caller: clear only when the definition allows it and
 * the caller holds a purpose grant; otherwise the field's fallback.
 */
export function effectiveTreatments(
  selection: RecordSelection,
  canReadClear: boolean,
): Record<string, FieldTreatment> {
  const out: Record<string, FieldTreatment> = {};
  for (const [f, rule] of Object.entries(selection.fields))
    out[f] = rule.treatment === 'clear' && !canReadClear ? rule.fallback : rule.treatment;
  return out;
}
