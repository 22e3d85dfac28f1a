// The privacy record store as an export record source: ids listed from the records table, each record
// read through RecordStore (audited there), each field cleared, masked or given a deterministic token
// (equal values → equal tokens, so repeated exports stay byte-identical and joins survive).
import { sql } from 'kysely';
import type { JsonValue } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import type { Actor } from '../ledger/index.ts';
import {
  fieldOf,
  maskForDisplay,
  valueAt,
  type FieldSpec,
  type FieldValue,
  type RecordStore,
  type Tokenizer,
} from '../privacy/index.ts';
import type { Store } from '../store/index.ts';
import type { FieldTreatment } from './definitions/definition.ts';
import type { ExportRecordSource } from './export.ts';
import { withCorrelation } from '../ledger/index.ts';

export interface RecordStoreSourceOptions {
  readonly store: Store;
  readonly records: RecordStore;
  readonly tokenizer: Tokenizer;
  /** Who the reads are audited as, and why. */
  readonly actor: Actor;
  readonly purpose: string;
  /** The run's or request's correlation id, carried by every record read's audit event. */
  readonly correlationId?: string;
}

function asJson(v: unknown): JsonValue | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.parse(JSON.stringify(v)) as JsonValue;
}

export function recordStoreSource(o: RecordStoreSourceOptions): ExportRecordSource {
  return {
    async idsAfter(workspaceId, type, after, limit) {
      // Record ids are ASCII, so code-unit order is byte order: the "C" collation on PostgreSQL
      // (indexed by records_export_order), the primary key's BINARY collation on SQLite.
      const id = o.store.dialect === 'postgres' ? sql<string>`id collate "C"` : sql<string>`id`;
      const rows = await o.store.db
        .selectFrom('records')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .where('type', '=', type)
        .$if(after !== undefined, (q) => q.where(id, '>', after ?? ''))
        .orderBy(id)
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },

    async read(workspaceId, type, ids, fields) {
      const schema = await o.records.schemaOf(workspaceId, type);
      const specs: [FieldSpec, FieldTreatment][] = Object.entries(fields).map(([path, t]) => {
        const spec = fieldOf(schema, path);
        if (spec === undefined) {
          throw new CustosError(
            'CUSTODY_DEFINITION_INVALID',
            `Export definition names a field the ${type} schema does not have`,
            {
              details: { field: `records/${type}/fields/${path}`, rule: 'a field of the record type' },
            },
          );
        }
        return [spec, t];
      });
      // Clear values and tokens both need the decrypted value; the caller's permission decided the treatment.
      const reveal = specs.some(([, t]) => t !== 'mask');
      const out: { id: string; data: Record<string, JsonValue> }[] = [];
      // One batch read: records deleted or erased meanwhile are simply not among the views.
      const views = await o.records.getMany(workspaceId, type, ids, {
        reveal,
        actor: o.actor,
        purpose: o.purpose,
        ...withCorrelation(o.correlationId),
      });
      for (const view of views) {
        const id = view.id;
        const data = Object.create(null) as Record<string, JsonValue>;
        for (const [spec, t] of specs) {
          const value = valueAt(view.fields, spec);
          if (value === undefined) continue;
          let exported: JsonValue | undefined;
          if (t === 'clear') exported = asJson(value);
          else if (t === 'mask')
            exported = reveal ? asJson(maskForDisplay(spec, value as FieldValue)) : asJson(value);
          else
            exported = await o.tokenizer.deterministic(
              workspaceId,
              spec.tokenDomain,
              typeof value === 'string' ? value : JSON.stringify(value),
            );
          if (exported !== undefined) data[spec.path] = exported;
        }
        out.push({ id, data });
      }
      return out;
    },
  };
}
