// Store steps through the encrypting record store: a workflow's data schema becomes the record
// type's privacy schema (classified fields encrypted, indexed ones blind-indexed), bound per step.
import type { JsonValue } from '../../crypto/index.ts';
import { CustosError, isCustosError } from '../../errors/index.ts';
import type { Actor } from '../../ledger/index.ts';
import {
  defineDataSchema,
  isEncrypted,
  PII_CATEGORIES,
  type DataSchema,
  type FieldValue,
  type PiiCategory,
  type RecordStore,
} from '../../privacy/index.ts';
import type { DataField, WorkflowDefinition } from '../definition/types.ts';
import type { RecordAccess } from '../step-contract.ts';
import type { StepContext } from './workflows.ts';

/** Detector categories of workflow schemas, as the record store's PII categories. */
const DETECTOR_CATEGORIES: Readonly<Record<string, PiiCategory>> = {
  email: 'email',
  phone: 'phone',
  payment_card: 'financial',
  iban: 'financial',
  us_ssn: 'national_id',
  ip_address: 'other',
  date_of_birth: 'date_of_birth',
};

/** Common `custom:<name>` categories that mean one of the record store's categories. */
const CUSTOM_ALIASES: Readonly<Record<string, PiiCategory>> = {
  person_name: 'name',
  full_name: 'name',
  bank_account: 'financial',
  account_number: 'financial',
  ssn: 'national_id',
  tax_id: 'national_id',
  passport: 'national_id',
  postal_address: 'address',
  medical: 'health',
  password: 'credential',
};

function isPiiCategory(name: string): name is PiiCategory {
  return (PII_CATEGORIES as readonly string[]).includes(name);
}

/** The record store category of a workflow field's category (`other` when it names none). */
export function piiCategoryOf(category: string): PiiCategory {
  if (category.startsWith('custom:')) {
    const name = category.slice('custom:'.length).replaceAll(/[.-]/g, '_');
    return isPiiCategory(name) ? name : (CUSTOM_ALIASES[name] ?? 'other');
  }
  return DETECTOR_CATEGORIES[category] ?? 'other';
}

function recordType(field: DataField): 'string' | 'number' | 'boolean' | undefined {
  switch (field.type) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      // Objects and arrays have no field ciphertext form; such fields cannot be stored.
      return undefined;
  }
}

const schemas = new WeakMap<WorkflowDefinition, Map<string, DataSchema>>();

/** The field that names a record's data subject: the first scalar e-mail field of the schema. */
function subjectFieldOf(definition: WorkflowDefinition): string | undefined {
  return Object.entries(definition.data.fields).find(
    ([name, f]) =>
      name !== 'id' &&
      f.type === 'string' &&
      f.category !== undefined &&
      piiCategoryOf(f.category) === 'email',
  )?.[0];
}

/**
 * The privacy schema of record `type` as a workflow stores it: every scalar field of the workflow's
 * data schema with its classification and category (confidential and restricted ones encrypted),
 * blind indexes on indexed classified fields and, for records that carry one, the e-mail field as
 * the data subject (its key wraps the record's DEK, so erasing the subject shreds the record).
 * Both variants index the same fields, so lookups work whichever was registered last.
 * Throws PRIVACY_SCHEMA_INVALID.
 */
export function recordSchemaOf(
  definition: WorkflowDefinition,
  type: string,
  withSubject: boolean,
): DataSchema {
  let cache = schemas.get(definition);
  if (cache === undefined) {
    cache = new Map();
    schemas.set(definition, cache);
  }
  const key = `${type}\u0000${String(withSubject)}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const fields: Record<string, JsonValue> = {};
  for (const [name, field] of Object.entries(definition.data.fields)) {
    const kind = recordType(field);
    // `id` is the record id in the store, never a field.
    if (kind === undefined || name === 'id') continue;
    const encrypted = isEncrypted(field.classification);
    const category =
      field.category === undefined ? (encrypted ? 'other' : null) : piiCategoryOf(field.category);
    fields[name] = {
      type: kind,
      classification: field.classification,
      ...(category === null ? {} : { category }),
      ...(field.indexed === true && encrypted ? { index: true } : {}),
    };
  }
  const subject = withSubject ? (subjectFieldOf(definition) ?? null) : null;
  const schema = defineDataSchema({ type, subject, fields });
  cache.set(key, schema);
  return schema;
}

function invalidRecord(field: string, rule: string): CustosError {
  return new CustosError('PRIVACY_RECORD_INVALID', `Record field ${field}: ${rule}`, {
    details: { field, rule },
  });
}

/** The record as the store takes it: declared scalar fields only (null means absent). */
function plainRecord(
  schema: DataSchema,
  record: Readonly<Record<string, JsonValue>>,
): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const [field, value] of Object.entries(record)) {
    // Without a declaration there is no classification, so the value could not be protected.
    if (!schema.fields.some((f) => f.path === field))
      throw invalidRecord(field.slice(0, 64), "declared as a scalar field in the workflow's data schema");
    if (value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      throw invalidRecord(field, 'a string, number or boolean');
    Object.defineProperty(out, field, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

async function exists(
  records: RecordStore,
  workspaceId: string,
  type: string,
  id: string,
  actor: Actor,
): Promise<boolean> {
  try {
    await records.get(workspaceId, type, id, { reveal: false, actor });
    return true;
  } catch {
    return false;
  }
}

/**
 * Bind the record store to one step attempt: `put` encrypts and indexes a record under the
 * workflow's schema with the attempt's idempotency key as its id (a re-run after a crash or a
 * timeout finds the record it already wrote); `findBy` looks records up through a blind index.
 */
export function recordAccessFrom(records: RecordStore): (context: StepContext) => RecordAccess {
  return (context) => {
    const actor: Actor = { kind: 'system', id: `run:${context.runId}` };
    return {
      put: async (type, record) => {
        const subject = subjectFieldOf(context.definition);
        const withSubject = subject !== undefined && typeof record[subject] === 'string';
        const schema = recordSchemaOf(context.definition, type, withSubject);
        const id = context.idempotencyKey;
        const line = JSON.stringify({ ...plainRecord(schema, record), id });
        try {
          await records.importNdjson(context.workspaceId, schema, line, actor);
        } catch (err) {
          if (
            isCustosError(err, 'PRIVACY_IMPORT_FAILED') &&
            (await exists(records, context.workspaceId, type, id, actor))
          )
            return { id };
          throw err;
        }
        return { id };
      },
      findBy: async (type, field, value) => {
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
          throw new CustosError('INPUT_INVALID', 'A lookup value must be a string, number or boolean', {
            details: { field: 'value', rule: 'scalar' },
          });
        }
        try {
          const ids = await records.findBy(context.workspaceId, type, field, value, { actor });
          return ids.map((id) => ({ id }));
        } catch (err) {
          // No record of this type was ever stored: nothing can match.
          if (isCustosError(err, 'PRIVACY_SCHEMA_UNKNOWN')) return [];
          throw err;
        }
      },
    };
  };
}
