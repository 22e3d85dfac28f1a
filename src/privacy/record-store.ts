// The encrypted record store: all-or-nothing NDJSON import, one record decrypted for a permitted reader or
// masked otherwise, equality lookups through blind indexes, subject erasure; every access audited.
import { CustosError } from '../errors/index.ts';
import { hmacSha256 } from '../crypto/index.ts';
import { isCustosError } from '../errors/index.ts';
import type { Selectable } from 'kysely';
import type { DataKey, Keyring } from '../keys/index.ts';
import type { Actor, AuditEvent, AuditSink, ResourceRef } from '../ledger/index.ts';
import { nowIso, type RecordsTable, type Store } from '../store/index.ts';
import { checkPurpose, denyAll, type Authorize } from './authorize.ts';
import { blindIndexContext, blindIndexDigest } from './blind-index.ts';
import { defaultNormalization, type Normalization } from './classification.ts';
import { maskRecordForLowerEnv, loadMaskingKeys } from './lower-env.ts';
import { DEFAULT_IMPORT_LIMITS, parseImport, RECORD_ID, type ImportLimits } from './ndjson.ts';
import { normalize } from './normalize.ts';
import { RecordCodec, valueAt, type PlainRecord } from './record-codec.ts';
import { importError, writeImport } from './record-import.ts';
import { maskForDisplay } from './record-view.ts';
import { defineDataSchema, fieldOf, type DataSchema, type FieldSpec } from './schema.ts';
import { checkValue, type FieldValue } from './values.ts';
import { withCorrelation } from '../ledger/index.ts';

type RecordRow = Selectable<RecordsTable>;

/** Ids per query of a batch read (well under every dialect's bound-parameter limit). */
const MANY_CHUNK = 500;

export interface RecordStoreOptions {
  readonly store: Store;
  readonly keyring: Keyring;
  readonly audit: AuditSink;
  /** Who may reveal decrypted values; deny-all when omitted. */
  readonly authorize?: Authorize;
  readonly importLimits?: Partial<ImportLimits>;
}

export interface ImportResult {
  readonly type: string;
  readonly imported: number;
  readonly schemaDigest: string;
}

export interface GetOptions {
  /** Decrypted values (needs `privacy.reveal`) instead of masked ones. */
  readonly reveal: boolean;
  readonly actor: Actor;
  /** Why the record is read; required to reveal, recorded in the audit event. */
  readonly purpose?: string;
  /** The request this read belongs to, carried by the audit event. */
  readonly correlationId?: string;
}

export interface RecordView {
  readonly workspaceId: string;
  readonly type: string;
  readonly id: string;
  readonly subjectId: string | null;
  readonly createdAt: string;
  readonly revealed: boolean;
  readonly fields: PlainRecord;
}

export interface MaskedCopy {
  readonly id: string;
  readonly fields: PlainRecord;
}

export class RecordStore {
  readonly #store: Store;
  readonly #keyring: Keyring;
  readonly #audit: AuditSink;
  readonly #authorize: Authorize;
  readonly #limits: ImportLimits;
  readonly #schemas = new Map<string, DataSchema>();
  readonly #codecs = new WeakMap<DataSchema, RecordCodec>();

  constructor({ store, keyring, audit, authorize = denyAll, importLimits = {} }: RecordStoreOptions) {
    this.#store = store;
    this.#keyring = keyring;
    this.#audit = audit;
    this.#authorize = authorize;
    this.#limits = { ...DEFAULT_IMPORT_LIMITS, ...importLimits };
  }

  #codec(schema: DataSchema): RecordCodec {
    let c = this.#codecs.get(schema);
    if (!c) {
      c = new RecordCodec(schema);
      this.#codecs.set(schema, c);
    }
    return c;
  }

  #event(
    workspaceId: string,
    actor: Actor,
    action: string,
    resource: ResourceRef,
    outcome: AuditEvent['outcome'],
    details: AuditEvent['details'],
    purpose?: string,
    correlationId?: string,
  ): Promise<void> {
    return this.#audit.record(workspaceId, {
      time: nowIso(),
      actor,
      action,
      resource,
      outcome,
      ...(purpose === undefined || purpose === '' ? {} : { purpose }),
      ...withCorrelation(correlationId),
      ...(details === undefined ? {} : { details }),
    });
  }

  /**
   * The pseudonymous subject id of a subject value (HMAC under the workspace subject secret, after the subject
   * field's normalization). Erasure requests use it. Throws PRIVACY_SCHEMA_INVALID when the schema has no subject.
   */
  async subjectIdFor(workspaceId: string, schema: DataSchema, value: string): Promise<string> {
    const f = schema.subject === null ? undefined : fieldOf(schema, schema.subject);
    if (!f) {
      throw new CustosError(
        'PRIVACY_SCHEMA_INVALID',
        `Data schema ${schema.type} declares no subject field`,
        {
          details: { field: 'subject', rule: 'declared for erasure' },
        },
      );
    }
    const key = await this.#keyring.deriveKey(workspaceId, 'subject', 'subject-id');
    return subjectId(key, f, value);
  }

  /**
   * Load NDJSON records (`{"id": …, <fields>}` per line) in one transaction: all or nothing. Throws
   * PRIVACY_IMPORT_FAILED with every bad line in `details.problems` ({field: 'line N: …', rule, line}), including
   * ids already stored and erased subjects; keyring errors (KEYS_WORKSPACE_UNKNOWN, KEYS_KEYRING_CORRUPT).
   */
  async importNdjson(
    workspaceId: string,
    schema: DataSchema,
    text: string,
    actor: Actor,
  ): Promise<ImportResult> {
    const resource = { kind: 'record-type', id: `${workspaceId}/${schema.type}` };
    try {
      const { records, problems } = parseImport(schema, text, this.#limits);
      if (problems.length > 0) throw importError(problems);
      const subjectField = schema.subject === null ? undefined : fieldOf(schema, schema.subject);
      const subjectKey = subjectField
        ? await this.#keyring.deriveKey(workspaceId, 'subject', 'subject-id')
        : undefined;
      const subjects = records.map((r) => {
        const v = subjectField ? valueAt(r.fields, subjectField) : undefined;
        return subjectField && subjectKey && typeof v === 'string'
          ? subjectId(subjectKey, subjectField, v)
          : null;
      });
      const indexKeys = new Map<string, Buffer>();
      for (const f of schema.fields) {
        if (f.index) indexKeys.set(f.path, await this.#indexKey(workspaceId, schema.type, f.path));
      }
      await this.#keyring.transaction((scope) =>
        writeImport(this.#keyring, scope, { workspaceId, schema, records, subjects, indexKeys }),
      );
      await this.#event(workspaceId, actor, 'privacy.record.import', resource, 'success', {
        type: schema.type,
        imported: records.length,
        schemaDigest: schema.digest,
      });
      return { type: schema.type, imported: records.length, schemaDigest: schema.digest };
    } catch (err) {
      if (isCustosError(err, 'PRIVACY_IMPORT_FAILED')) {
        await this.#event(workspaceId, actor, 'privacy.record.import', resource, 'failure', {
          type: schema.type,
          problems: Array.isArray(err.details.problems) ? err.details.problems.length : 1,
        });
      }
      throw err;
    }
  }

  async #indexKey(workspaceId: string, type: string, path: string): Promise<Buffer> {
    return this.#keyring.deriveKey(workspaceId, 'blind-index', blindIndexContext(type, path));
  }

  async #schemaByDigest(workspaceId: string, digest: string): Promise<DataSchema> {
    const id = `${workspaceId}\u0000${digest}`;
    const cached = this.#schemas.get(id);
    if (cached) return cached;
    const row = await this.#store.db
      .selectFrom('data_schemas')
      .select('definition')
      .where('workspace_id', '=', workspaceId)
      .where('digest', '=', digest)
      .executeTakeFirst();
    if (!row) {
      throw new CustosError('PRIVACY_SCHEMA_UNKNOWN', 'The data schema of this record is not registered', {
        details: { field: 'schema', rule: 'registered data schema', digest },
      });
    }
    const schema = defineDataSchema(JSON.parse(row.definition));
    this.#schemas.set(id, schema);
    return schema;
  }

  /** The newest registered schema of a record type. Throws PRIVACY_SCHEMA_UNKNOWN. */
  async schemaOf(workspaceId: string, type: string): Promise<DataSchema> {
    const row = await this.#store.db
      .selectFrom('data_schemas')
      .select('digest')
      .where('workspace_id', '=', workspaceId)
      .where('type', '=', type)
      .orderBy('created_at', 'desc')
      .orderBy('digest')
      .executeTakeFirst();
    if (!row) {
      throw new CustosError('PRIVACY_SCHEMA_UNKNOWN', 'No data schema is registered for this record type', {
        details: { field: 'type', rule: 'record type with imported records', type },
      });
    }
    return this.#schemaByDigest(workspaceId, row.digest);
  }

  /**
   * One record: decrypted when `reveal` (needs `privacy.reveal` and a purpose), masked otherwise (restricted
   * values withheld and not even decrypted). Audited either way. Throws PRIVACY_REVEAL_DENIED,
   * PRIVACY_RECORD_NOT_FOUND, KEYS_SUBJECT_SHREDDED, KEYS_VERSION_DESTROYED, and field ciphertext errors.
   */
  async get(workspaceId: string, type: string, id: string, opts: GetOptions): Promise<RecordView> {
    const resource = { kind: 'record', id: `${workspaceId}/${type}/${id}` };
    const purpose = checkPurpose(opts.purpose);
    if (opts.reveal) {
      const allowed = purpose !== '' && (await this.#authorize(opts.actor, 'privacy.reveal', resource));
      if (!allowed) return this.#refuseReveal(workspaceId, type, [resource], opts, purpose);
    }
    const row = RECORD_ID.test(id)
      ? await this.#store.db
          .selectFrom('records')
          .selectAll()
          .where('workspace_id', '=', workspaceId)
          .where('type', '=', type)
          .where('id', '=', id)
          .executeTakeFirst()
      : undefined;
    if (!row) {
      throw new CustosError('PRIVACY_RECORD_NOT_FOUND', 'Record not found', {
        details: { field: 'id', rule: 'existing record of this type' },
      });
    }
    const schema = await this.#schemaByDigest(workspaceId, row.schema_digest);
    const dek = await this.#keyring.unwrapDek(null, workspaceId, row.dek_id);
    const view = this.#view(workspaceId, type, row, schema, dek, opts.reveal);
    await this.#readEvent(workspaceId, type, id, schema, opts, purpose);
    return view;
  }

  /**
   * Many records of one type, each read exactly as `get` reads it (the same authorization, decryption,
   * masking, and one audit event per record), with one query for the rows and one for their data keys;
   * the audit events are appended together, so they share ledger commits. Ids with no record, and
   * records whose subject was erased, are left out; the views follow the order of `ids`. Throws
   * PRIVACY_REVEAL_DENIED (after recording each denial), KEYS_VERSION_DESTROYED, and field ciphertext errors.
   */
  async getMany(
    workspaceId: string,
    type: string,
    ids: readonly string[],
    opts: GetOptions,
  ): Promise<RecordView[]> {
    const purpose = checkPurpose(opts.purpose);
    const wanted = [...new Set(ids)];
    if (opts.reveal) {
      const resources = wanted.map((id) => ({ kind: 'record', id: `${workspaceId}/${type}/${id}` }));
      const allowed =
        purpose === ''
          ? resources.map(() => false)
          : await Promise.all(
              resources.map(async (r) => await this.#authorize(opts.actor, 'privacy.reveal', r)),
            );
      const denied = resources.filter((_, i) => allowed[i] !== true);
      if (denied.length > 0) return this.#refuseReveal(workspaceId, type, denied, opts, purpose);
    }
    const valid = wanted.filter((id) => RECORD_ID.test(id));
    const rows: RecordRow[] = [];
    for (let i = 0; i < valid.length; i += MANY_CHUNK) {
      rows.push(
        ...(await this.#store.db
          .selectFrom('records')
          .selectAll()
          .where('workspace_id', '=', workspaceId)
          .where('type', '=', type)
          .where('id', 'in', valid.slice(i, i + MANY_CHUNK))
          .execute()),
      );
    }
    const deks = await this.#readableDeks(
      workspaceId,
      rows.map((r) => r.dek_id),
    );
    // Read (and audit) in the order asked, whatever order the database returned the rows in.
    const position = new Map(wanted.map((id, i) => [id, i]));
    rows.sort((a, b) => (position.get(a.id) ?? 0) - (position.get(b.id) ?? 0));
    const views: RecordView[] = [];
    const events: Promise<void>[] = [];
    try {
      for (const row of rows) {
        const dek = deks.get(row.dek_id);
        // Erased subject: the record cannot be read any more.
        if (dek === undefined) continue;
        const schema = await this.#schemaByDigest(workspaceId, row.schema_digest);
        views.push(this.#view(workspaceId, type, row, schema, dek, opts.reveal));
        events.push(this.#readEvent(workspaceId, type, row.id, schema, opts, purpose));
      }
    } finally {
      // The records decrypted so far were read: their events are recorded even when a later one fails.
      await Promise.all(events);
    }
    return views;
  }

  /** Record a denied reveal of each resource, then throw PRIVACY_REVEAL_DENIED. */
  async #refuseReveal(
    workspaceId: string,
    type: string,
    resources: readonly ResourceRef[],
    opts: GetOptions,
    purpose: string,
  ): Promise<never> {
    const reason = purpose === '' ? 'no purpose given' : 'permission privacy.reveal missing';
    await Promise.all(
      resources.map((resource) =>
        this.#event(
          workspaceId,
          opts.actor,
          'privacy.record.reveal',
          resource,
          'denied',
          { type, reason },
          purpose,
          opts.correlationId,
        ),
      ),
    );
    throw new CustosError(
      'PRIVACY_REVEAL_DENIED',
      'Revealing a record needs the privacy.reveal permission and a purpose',
      {
        details: { field: 'actor', rule: 'holds privacy.reveal; purpose given' },
      },
    );
  }

  /** The data keys of these DEK ids, without those whose subject was erased. */
  async #readableDeks(workspaceId: string, dekIds: readonly string[]): Promise<Map<string, DataKey>> {
    try {
      return await this.#keyring.unwrapDeks(null, workspaceId, dekIds);
    } catch (err) {
      if (!isCustosError(err) || err.code !== 'KEYS_SUBJECT_SHREDDED') throw err;
    }
    // Some subject was erased: find which keys are gone, one by one (rare).
    const out = new Map<string, DataKey>();
    for (const id of new Set(dekIds)) {
      try {
        out.set(id, await this.#keyring.unwrapDek(null, workspaceId, id));
      } catch (err) {
        if (!isCustosError(err) || err.code !== 'KEYS_SUBJECT_SHREDDED') throw err;
      }
    }
    return out;
  }

  #view(
    workspaceId: string,
    type: string,
    row: RecordRow,
    schema: DataSchema,
    dek: DataKey,
    reveal: boolean,
  ): RecordView {
    // Parsed once: decryption only reads the stored form, and masking reads it after.
    const stored: unknown = JSON.parse(row.data);
    const wanted = (f: FieldSpec): boolean => reveal || f.classification === 'confidential';
    const plain = this.#codec(schema).decrypt({ workspaceId, recordId: row.id, dek }, stored, wanted);
    return {
      workspaceId,
      type,
      id: row.id,
      subjectId: row.subject_id,
      createdAt: row.created_at,
      revealed: reveal,
      fields: reveal ? plain : maskView(schema, plain, stored),
    };
  }

  #readEvent(
    workspaceId: string,
    type: string,
    id: string,
    schema: DataSchema,
    opts: GetOptions,
    purpose: string,
  ): Promise<void> {
    const wanted = (f: FieldSpec): boolean => opts.reveal || f.classification === 'confidential';
    return this.#event(
      workspaceId,
      opts.actor,
      opts.reveal ? 'privacy.record.reveal' : 'privacy.record.read',
      { kind: 'record', id: `${workspaceId}/${type}/${id}` },
      'success',
      { type, fields: schema.fields.filter((f) => f.encrypted && wanted(f)).map((f) => f.path) },
      purpose,
      opts.correlationId,
    );
  }

  /**
   * Ids of the records whose `field` equals `value` after normalization, through the field's blind index. With an
   * index shorter than 64 bits, candidates are decrypted and compared, so false matches are dropped. Audited when
   * an actor is given. Throws PRIVACY_SCHEMA_UNKNOWN, PRIVACY_FIELD_NOT_INDEXED, INPUT_INVALID.
   */
  async findBy(
    workspaceId: string,
    type: string,
    field: string,
    value: FieldValue,
    opts: { actor?: Actor } = {},
  ): Promise<string[]> {
    const schema = await this.schemaOf(workspaceId, type);
    const f = fieldOf(schema, field);
    if (!f?.index) {
      throw new CustosError('PRIVACY_FIELD_NOT_INDEXED', `Field ${field} of ${type} has no blind index`, {
        details: { field, rule: 'declared with index' },
      });
    }
    const why = checkValue(f.type, value);
    if (why !== undefined) {
      throw new CustosError('INPUT_INVALID', `Lookup value must be ${why}`, {
        details: { field: 'value', rule: why },
      });
    }
    const digest = blindIndexDigest(await this.#indexKey(workspaceId, type, f.path), value, f.index);
    let ids: string[] = [];
    if (digest !== undefined) {
      const rows = await this.#store.db
        .selectFrom('blind_index')
        .select('record_id')
        .where('workspace_id', '=', workspaceId)
        .where('type', '=', type)
        .where('field', '=', f.path)
        .where('digest', '=', digest)
        .orderBy('record_id')
        .execute();
      ids = rows.map((r) => r.record_id);
      if (f.index.bits < 64) ids = await this.#confirm(workspaceId, type, f, f.index.normalize, value, ids);
    }
    if (opts.actor) {
      await this.#event(
        workspaceId,
        opts.actor,
        'privacy.record.lookup',
        { kind: 'record-type', id: `${workspaceId}/${type}` },
        'success',
        {
          type,
          field: f.path,
          matches: ids.length,
        },
      );
    }
    return ids;
  }

  /** Keep the candidates whose decrypted value really normalizes to the same text (truncated digests collide). */
  async #confirm(
    workspaceId: string,
    type: string,
    f: FieldSpec,
    how: Normalization,
    value: FieldValue,
    ids: string[],
  ): Promise<string[]> {
    const want = normalize(value, how);
    const out: string[] = [];
    for (const id of ids) {
      const row = await this.#store.db
        .selectFrom('records')
        .select(['dek_id', 'data', 'schema_digest'])
        .where('workspace_id', '=', workspaceId)
        .where('type', '=', type)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) continue;
      try {
        const schema = await this.#schemaByDigest(workspaceId, row.schema_digest);
        const dek = await this.#keyring.unwrapDek(null, workspaceId, row.dek_id);
        const plain = this.#codec(schema).decrypt(
          { workspaceId, recordId: id, dek },
          JSON.parse(row.data),
          (g) => g.path === f.path,
        );
        const got = valueAt(plain, f) as FieldValue | undefined;
        if (got !== undefined && normalize(got, how) === want) out.push(id);
      } catch (err) {
        if (!isCustosError(err, 'KEYS_SUBJECT_SHREDDED')) throw err;
      }
    }
    return out;
  }

  /**
   * Erase a data subject: delete the blind index entries of their records and shred their key, in one transaction.
   * Their records stay, unreadable. Throws KEYS_SUBJECT_UNKNOWN.
   */
  async eraseSubject(
    workspaceId: string,
    subjectId: string,
    actor: Actor,
  ): Promise<{ records: number; dekCount: number }> {
    const result = await this.#keyring.transaction(async (scope) => {
      const recs = await scope.db
        .selectFrom('records')
        .select(['type', 'id'])
        .where('workspace_id', '=', workspaceId)
        .where('subject_id', '=', subjectId)
        .execute();
      for (const r of recs) {
        await scope.db
          .deleteFrom('blind_index')
          .where('workspace_id', '=', workspaceId)
          .where('type', '=', r.type)
          .where('record_id', '=', r.id)
          .execute();
      }
      const { dekCount } = await this.#keyring.shredSubjectIn(scope, workspaceId, subjectId, actor);
      return { records: recs.length, dekCount };
    });
    await this.#event(
      workspaceId,
      actor,
      'privacy.subject.erase',
      { kind: 'data-subject', id: `${workspaceId}/subject/${subjectId}` },
      'success',
      result,
    );
    return result;
  }

  /**
   * Masked copies of every record of a type for a lower environment (`privacy mask`), by the schema's `mask`
   * settings; records of erased subjects are skipped. Audited with the count.
   */
  async lowerEnvCopy(workspaceId: string, type: string, actor: Actor): Promise<MaskedCopy[]> {
    const rows = await this.#store.db
      .selectFrom('records')
      .select(['id', 'dek_id', 'data', 'schema_digest'])
      .where('workspace_id', '=', workspaceId)
      .where('type', '=', type)
      .orderBy('id')
      .execute();
    const out: MaskedCopy[] = [];
    let skipped = 0;
    for (const row of rows) {
      const schema = await this.#schemaByDigest(workspaceId, row.schema_digest);
      try {
        const dek = await this.#keyring.unwrapDek(null, workspaceId, row.dek_id);
        const plain = this.#codec(schema).decrypt(
          { workspaceId, recordId: row.id, dek },
          JSON.parse(row.data),
        );
        const keys = await loadMaskingKeys(this.#keyring, workspaceId, schema);
        out.push({ id: row.id, fields: maskRecordForLowerEnv(schema, plain, keys) });
      } catch (err) {
        if (!isCustosError(err, 'KEYS_SUBJECT_SHREDDED')) throw err;
        skipped++;
      }
    }
    await this.#event(
      workspaceId,
      actor,
      'privacy.record.mask-export',
      { kind: 'record-type', id: `${workspaceId}/${type}` },
      'success',
      {
        type,
        records: out.length,
        skippedErased: skipped,
      },
    );
    return out;
  }
}

function subjectId(key: Uint8Array, f: FieldSpec, value: string): string {
  const text = normalize(value, f.index?.normalize ?? defaultNormalization(f.category));
  return `sub_${hmacSha256(key, 'custos/subject/v1\u0000', text).subarray(0, 16).toString('hex')}`;
}

function maskView(schema: DataSchema, plain: PlainRecord, stored: unknown): PlainRecord {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) {
    // Restricted values are never decrypted for a masked view: only their presence shows.
    const present = f.classification === 'restricted' && valueAt(stored, f) !== undefined;
    const v = present ? '' : (valueAt(plain, f) as FieldValue | undefined);
    if (v === undefined) continue;
    let node = out;
    f.segments.forEach((seg, i) => {
      if (i === f.segments.length - 1) {
        Object.defineProperty(node, seg, {
          value: maskForDisplay(f, v),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        return;
      }
      if (!Object.hasOwn(node, seg))
        Object.defineProperty(node, seg, { value: {}, enumerable: true, writable: true, configurable: true });
      node = node[seg] as Record<string, unknown>;
    });
  }
  return out as PlainRecord;
}
