// The transaction body of an NDJSON import: refuse ids already stored and erased subjects (with their
// lines), register the schema, create one DEK per record, encrypt, and write records and blind indexes.
import type { Kysely } from 'kysely';
import { CustosError, type ErrorProblem } from '../errors/index.ts';
import type { Keyring, KeyScope } from '../keys/index.ts';
import { nowIso, type Database } from '../store/index.ts';
import { blindIndexDigest } from './blind-index.ts';
import type { ImportLine } from './ndjson.ts';
import { RecordCodec, valueAt } from './record-codec.ts';
import type { DataSchema, FieldSpec } from './schema.ts';
import type { FieldValue } from './values.ts';

const CHUNK = 200;

export interface PreparedImport {
  readonly workspaceId: string;
  readonly schema: DataSchema;
  readonly records: readonly ImportLine[];
  /** Pseudonymous subject id per record (null: no subject). */
  readonly subjects: readonly (string | null)[];
  /** Blind index key per indexed field path. */
  readonly indexKeys: ReadonlyMap<string, Buffer>;
}

export function importError(problems: readonly ErrorProblem[]): CustosError {
  const first = problems[0] ?? { field: '/', rule: 'valid import' };
  return new CustosError(
    'PRIVACY_IMPORT_FAILED',
    `Import rejected, nothing was written: ${problems.length} problem(s); first: ${first.field}: ${first.rule}`,
    {
      details: {
        field: first.field,
        rule: first.rule,
        ...(first.line === undefined ? {} : { line: first.line }),
        problems,
      },
    },
  );
}

async function alreadyStored(db: Kysely<Database>, p: PreparedImport): Promise<ErrorProblem[]> {
  const lineOf = new Map(p.records.map((r) => [r.id, r.line]));
  const ids = [...lineOf.keys()];
  const problems: ErrorProblem[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db
      .selectFrom('records')
      .select('id')
      .where('workspace_id', '=', p.workspaceId)
      .where('type', '=', p.schema.type)
      .where('id', 'in', ids.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) {
      const line = lineOf.get(r.id) ?? 0;
      problems.push({
        field: `line ${line}: id`,
        rule: 'not already imported (a record with this id exists)',
        line,
      });
    }
  }
  return problems;
}

async function erasedSubjects(db: Kysely<Database>, p: PreparedImport): Promise<ErrorProblem[]> {
  const wanted = [...new Set(p.subjects.filter((s): s is string => s !== null))];
  const erased = new Set<string>();
  for (let i = 0; i < wanted.length; i += CHUNK) {
    const rows = await db
      .selectFrom('subject_keys')
      .select('subject_id')
      .where('workspace_id', '=', p.workspaceId)
      .where('subject_id', 'in', wanted.slice(i, i + CHUNK))
      .where('shredded_at', 'is not', null)
      .execute();
    for (const r of rows) erased.add(r.subject_id);
  }
  const problems: ErrorProblem[] = [];
  p.records.forEach((r, i) => {
    const s = p.subjects[i];
    if (s !== null && s !== undefined && erased.has(s)) {
      problems.push({
        field: `line ${r.line}: ${p.schema.subject ?? 'subject'}`,
        rule: 'data subject was erased',
        line: r.line,
      });
    }
  });
  return problems;
}

/** Run inside the keyring transaction; throws PRIVACY_IMPORT_FAILED (rolling everything back) on a conflict. */
export async function writeImport(keyring: Keyring, scope: KeyScope, p: PreparedImport): Promise<void> {
  const db = scope.db;
  const problems = [...(await alreadyStored(db, p)), ...(await erasedSubjects(db, p))];
  if (problems.length > 0) throw importError(problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
  const now = nowIso();
  await db
    .insertInto('data_schemas')
    .values({
      workspace_id: p.workspaceId,
      type: p.schema.type,
      digest: p.schema.digest,
      definition: JSON.stringify(p.schema.definition),
      created_at: now,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'digest']).doNothing())
    .execute();
  const deks = await keyring.createDeks(scope, p.workspaceId, p.subjects);
  const codec = new RecordCodec(p.schema);
  const indexed = p.schema.fields.filter(
    (f): f is FieldSpec & { index: NonNullable<FieldSpec['index']> } => f.index !== null,
  );
  const records: Database['records'][] = [];
  const index: Database['blind_index'][] = [];
  p.records.forEach((r, i) => {
    const dek = deks[i];
    if (!dek) throw new CustosError('INTERNAL', 'One DEK per record was not created');
    const data = codec.encrypt({ workspaceId: p.workspaceId, recordId: r.id, dek }, r.fields);
    records.push({
      workspace_id: p.workspaceId,
      type: p.schema.type,
      id: r.id,
      dek_id: dek.id,
      subject_id: dek.subjectId,
      schema_digest: p.schema.digest,
      data: JSON.stringify(data),
      created_at: now,
    });
    for (const f of indexed) {
      const v = valueAt(r.fields, f) as FieldValue | undefined;
      const key = p.indexKeys.get(f.path);
      if (v === undefined || !key) continue;
      const digest = blindIndexDigest(key, v, f.index);
      if (digest !== undefined) {
        index.push({
          workspace_id: p.workspaceId,
          type: p.schema.type,
          field: f.path,
          digest,
          record_id: r.id,
        });
      }
    }
  });
  for (let i = 0; i < records.length; i += CHUNK)
    await db
      .insertInto('records')
      .values(records.slice(i, i + CHUNK))
      .execute();
  for (let i = 0; i < index.length; i += CHUNK) {
    await db
      .insertInto('blind_index')
      .values(index.slice(i, i + CHUNK))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}
