// Running an export: check the caller against the definition, read the selected records with the
// treatment each field allows this caller, write the signed bundle with its ledger proof, archive
// it, and record every custody step (requested, produced, archived) in the workspace ledger; at
// most once per idempotency key when the caller has one (a workflow step).
import { createHash, randomBytes } from 'node:crypto';
import type { JsonValue } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import {
  formatTlogProof,
  type Actor,
  type AuditSink,
  type Ledgers,
  withCorrelation,
} from '../ledger/index.ts';
import type { Store } from '../store/index.ts';
import { parseRecipient, type AgeRecipient } from './age/index.ts';
import type { Archive, ArchiveEntry } from './archive/archive.ts';
import { encodeLedgerProof } from './bundle/ledger-proof.ts';
import { checkpointToken } from './checkpoint-stamp.ts';
import { createPayloadPool, encodeRecords, type ExportRecord } from './bundle/ndjson.ts';
import { writeBundle, type BundleResult, type LedgerAnchor } from './bundle/write-bundle.ts';
import { effectiveTreatments, type ExportDefinition, type FieldTreatment } from './definitions/definition.ts';
import type { Definitions } from './definitions/definitions.ts';
import { custodyEvent, producedEvent } from './events.ts';
import type { ExportKeys } from './export-keys.ts';
import type { VersionedRef } from './prov/provenance.ts';
import type { Caller } from './roles.ts';

/** Where export records come from (the privacy record store behind an adapter). */
export interface ExportRecordSource {
  /**
   * Up to `limit` ids of `type` in the workspace that sort after `after` (from the first when it is
   * undefined), in strictly increasing UTF-16 code-unit order. The export lists ids page by page, so
   * its memory stays bounded however many records there are.
   */
  idsAfter(workspaceId: string, type: string, after: string | undefined, limit: number): Promise<string[]>;
  /** The records with each listed field decrypted, masked or tokenized as given; other fields omitted. */
  read(
    workspaceId: string,
    type: string,
    ids: readonly string[],
    fields: Readonly<Record<string, FieldTreatment>>,
  ): Promise<{ id: string; data: Record<string, JsonValue> }[]>;
}

export interface ExportContext {
  readonly workspaceId: string;
  readonly store: Store;
  readonly ledgers: Ledgers;
  readonly audit: AuditSink;
  readonly keys: ExportKeys;
  readonly definitions: Definitions;
  readonly archive: Archive;
  readonly records: ExportRecordSource;
  /** The run's or request's correlation id, carried by every custody ledger event of the export. */
  readonly correlationId?: string;
}

export interface CreateExportOptions {
  readonly definition: string;
  readonly version?: number;
  readonly out: string;
  /** age1… recipients added to the definition's own. */
  readonly recipients?: readonly string[];
  /** Why this run happens; the definition's purpose when omitted. */
  readonly purpose?: string;
  readonly caller: Caller;
  readonly run?: VersionedRef;
  readonly workflowVersion?: VersionedRef;
  readonly policy?: VersionedRef;
  readonly signal?: AbortSignal;
  /** Called after each batch of records is read, with the number read so far (for progress). */
  readonly onProgress?: (records: number) => void;
}

export interface CreateExportOnceOptions extends CreateExportOptions {
  /**
   * Stable across retries of one request (a workflow step's idempotency key): the export id derives
   * from it, so a retry finds the bundle an earlier attempt archived instead of producing another.
   */
  readonly idempotencyKey: string;
}

/** What an idempotent export returns: the bundle archived for the key, new or from an earlier attempt. */
export interface ExportOnceResult {
  readonly exportId: string;
  readonly bundleSha256: string;
  readonly size: number;
  /** True when an earlier attempt had already archived this export's bundle. */
  readonly reused: boolean;
}

export interface ExportResult extends BundleResult {
  readonly bundleSha256: string;
  readonly size: number;
  readonly archive: ArchiveEntry;
  readonly keyId: string;
  readonly definition: { readonly name: string; readonly version: number; readonly digest: string };
}

const READ_BATCH = 500;

/** Compare by UTF-16 code units, the order the payload promises. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The definition's field names in code-unit order, so the payload objects need no re-sorting. */
function sortedFields(fields: Readonly<Record<string, FieldTreatment>>): string[] {
  return Object.keys(fields).sort(byCodeUnits);
}

/** Batches of records in (type, id) order, each record's fields inserted in code-unit order. */
async function* selectRecords(
  source: ExportRecordSource,
  workspaceId: string,
  selections: readonly { type: string; fields: Readonly<Record<string, FieldTreatment>> }[],
  signal?: AbortSignal,
  onProgress?: (records: number) => void,
): AsyncGenerator<ExportRecord[]> {
  let read = 0;
  const ordered = [...selections].sort((a, b) => byCodeUnits(a.type, b.type));
  for (const sel of ordered) {
    const fields = sortedFields(sel.fields);
    let after: string | undefined;
    for (;;) {
      signal?.throwIfAborted();
      const batch = await source.idsAfter(workspaceId, sel.type, after, READ_BATCH);
      checkPage(batch, after);
      const last = batch.at(-1);
      if (last === undefined) break;
      const rows = new Map(
        (await source.read(workspaceId, sel.type, batch, sel.fields)).map((r) => [r.id, r.data]),
      );
      const out: ExportRecord[] = [];
      for (const id of batch) {
        const row = rows.get(id);
        // A record deleted (or shredded) between listing and reading is simply not exported.
        if (row === undefined) continue;
        // A plain object: records built in the same field order share one hidden class and serialize
        // much faster than prototype-less (dictionary) objects. A field named __proto__ is defined,
        // not assigned, so it stays a field.
        const data: Record<string, JsonValue> = {};
        for (const f of fields) {
          const v = Object.hasOwn(row, f) ? row[f] : undefined;
          if (v === undefined) continue;
          if (f === '__proto__')
            Object.defineProperty(data, f, {
              value: v,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          else data[f] = v;
        }
        out.push({ type: sel.type, id, data });
      }
      read += out.length;
      onProgress?.(read);
      yield out;
      if (batch.length < READ_BATCH) break;
      after = last;
    }
  }
}

/** A page of ids must continue the order: strictly increasing, each after the page before. */
function checkPage(batch: readonly string[], after: string | undefined): void {
  let prev = after;
  for (const id of batch) {
    if (prev !== undefined && byCodeUnits(prev, id) >= 0) {
      throw new CustosError('CUSTODY_DEFINITION_INVALID', 'The record source listed ids out of order', {
        details: { field: 'records', rule: 'ids in strictly increasing code-unit order' },
      });
    }
    prev = id;
  }
}

/**
 * The workspace ledger as the bundle's anchor: appends `custody.produced`, proves it, and adds the
 * checkpoint's RFC 3161 token (requested then if a TSA is configured and the ledger has none yet).
 */
export async function ledgerAnchor(
  ledgers: Ledgers,
  workspaceId: string,
  actor: Actor,
  purpose: string,
  correlationId?: string,
): Promise<LedgerAnchor & { lastIndex: () => number }> {
  const ledger = await ledgers.open(workspaceId);
  let lastIndex = -1;
  return {
    ledger: workspaceId,
    origin: ledger.origin,
    verifierKey: ledger.verifierKey,
    lastIndex: () => lastIndex,
    anchor: async (facts) => {
      const { index } = await ledger.append(producedEvent(actor, facts, purpose, correlationId));
      lastIndex = index;
      const p = await ledger.inclusionProof(index);
      const token = await checkpointToken(ledgers, workspaceId, p.checkpoint);
      return encodeLedgerProof({
        ledger: workspaceId,
        entry: p.entry,
        tlogProof: formatTlogProof({ index, proof: p.proof, checkpoint: p.checkpoint.note }),
        ...(token === undefined ? {} : { timestamp: token }),
      });
    },
  };
}

function newExportId(): string {
  const t = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `exp-${t.toLowerCase()}-${randomBytes(5).toString('hex')}`;
}

/** Domain separation for export ids derived from idempotency keys. */
const IDEMPOTENT_ID_DOMAIN = 'custos/export-idempotency/v1';

/** The export id an idempotency key stands for in a workspace (the same for every retry). */
export function idempotentExportId(workspaceId: string, idempotencyKey: string): string {
  const digest = createHash('sha256')
    .update(`${IDEMPOTENT_ID_DOMAIN}\0${workspaceId}\0${idempotencyKey}`, 'utf8')
    .digest('hex');
  return `exp-${digest.slice(0, 32)}`;
}

interface PreparedExport {
  readonly def: ExportDefinition;
  readonly purpose: string;
  readonly recipients: AgeRecipient[];
}

async function prepareExport(ctx: ExportContext, o: CreateExportOptions): Promise<PreparedExport> {
  const def = await ctx.definitions.get(ctx.workspaceId, o.definition, o.version);
  if (!o.caller.roles.some((r) => def.triggeredBy.includes(r))) {
    throw new CustosError(
      'CUSTODY_EXPORT_DENIED',
      `Definition ${def.name} may be run by ${def.triggeredBy.join(' or ')} only`,
      {
        details: { field: 'roles', rule: `one of ${def.triggeredBy.join(', ')}` },
      },
    );
  }
  const purpose = o.purpose ?? def.purpose;
  if (purpose.length === 0 || purpose.length > 512 || /\p{Cc}/u.test(purpose)) {
    throw new CustosError('INPUT_INVALID', 'Purpose must be one line of at most 512 characters', {
      details: { field: '--purpose', rule: 'one printable line' },
    });
  }
  const recipients: AgeRecipient[] = [];
  for (const text of new Set([...def.recipients, ...(o.recipients ?? [])]))
    recipients.push(parseRecipient(text, '--recipient'));
  return { def, purpose, recipients };
}

/**
 * Produce, archive and record one export. Throws CUSTODY_DEFINITION_NOT_FOUND, CUSTODY_EXPORT_DENIED
 * (caller's roles not allowed by the definition), CUSTODY_AGE_KEY_INVALID (a bad recipient), and the
 * errors of the record source, ledger and archive; a failed run is recorded as a failed request.
 */
export async function createExport(ctx: ExportContext, o: CreateExportOptions): Promise<ExportResult> {
  return produceExport(ctx, o, await prepareExport(ctx, o), newExportId());
}

/**
 * Check the request as createExport does (throwing the same errors before anything is recorded),
 * then produce the export in the background: `result` settles when it is archived or has failed.
 * For callers that answer before the export finishes (the API's `Prefer: respond-async`).
 */
export async function startExport(
  ctx: ExportContext,
  o: CreateExportOptions,
): Promise<{
  readonly exportId: string;
  readonly definition: { readonly name: string; readonly version: number };
  readonly result: Promise<ExportResult>;
}> {
  const prepared = await prepareExport(ctx, o);
  const exportId = newExportId();
  return {
    exportId,
    definition: { name: prepared.def.name, version: prepared.def.version },
    result: produceExport(ctx, o, prepared, exportId),
  };
}

/**
 * Produce one export per idempotency key: when an earlier attempt with the same key already
 * archived its bundle (a retry after a crash or a lost reply), record the repeated request and
 * return that bundle instead of exporting again. Throws what createExport throws.
 */
export async function createExportOnce(
  ctx: ExportContext,
  o: CreateExportOnceOptions,
): Promise<ExportOnceResult> {
  const prepared = await prepareExport(ctx, o);
  const exportId = idempotentExportId(ctx.workspaceId, o.idempotencyKey);
  const prior = await ctx.store.db
    .selectFrom('custody_archive')
    .select(['sha256', 'size'])
    .where('workspace_id', '=', ctx.workspaceId)
    .where('export_id', '=', exportId)
    .where('deleted_at', 'is', null)
    .orderBy('created_at')
    .executeTakeFirst();
  if (prior !== undefined) {
    await ctx.audit.record(
      ctx.workspaceId,
      custodyEvent({
        action: 'custody.requested',
        actor: o.caller.actor,
        exportId,
        bundleSha256: prior.sha256,
        purpose: prepared.purpose,
        ...withCorrelation(ctx.correlationId),
        details: { definition: `${prepared.def.name}@v${prepared.def.version}`, reused: true },
      }),
    );
    return { exportId, bundleSha256: prior.sha256, size: prior.size, reused: true };
  }
  const r = await produceExport(ctx, o, prepared, exportId);
  return { exportId, bundleSha256: r.bundleSha256, size: r.size, reused: false };
}

async function produceExport(
  ctx: ExportContext,
  o: CreateExportOptions,
  { def, purpose, recipients }: PreparedExport,
  exportId: string,
): Promise<ExportResult> {
  const startedAt = new Date().toISOString();
  const definition = { name: def.name, version: def.version, digest: def.digest };
  const actor = o.caller.actor;
  const correlation = withCorrelation(ctx.correlationId);
  await ctx.audit.record(
    ctx.workspaceId,
    custodyEvent({
      action: 'custody.requested',
      actor,
      exportId,
      purpose,
      ...correlation,
      details: { definition: `${def.name}@v${def.version}`, recipients: recipients.length },
    }),
  );
  try {
    const signer = await ctx.keys.signer(ctx.workspaceId, actor);
    const anchor = await ledgerAnchor(ctx.ledgers, ctx.workspaceId, actor, purpose, ctx.correlationId);
    const selections = def.records.map((r) => ({
      type: r.type,
      fields: effectiveTreatments(r, o.caller.canReadClear === true),
    }));
    const pool = createPayloadPool();
    const bundle = await writeBundle({
      out: o.out,
      exportId,
      workspace: ctx.workspaceId,
      sourceOrganization: def.sourceOrganization,
      startedAt,
      outputSchemaVersion: def.outputSchemaVersion,
      definition,
      purpose,
      actor,
      payload: encodeRecords(
        selectRecords(ctx.records, ctx.workspaceId, selections, o.signal, o.onProgress),
        {
          pool,
        },
      ),
      payloadPool: pool,
      recipients,
      signer,
      ledger: anchor,
      ...(o.run === undefined ? {} : { run: o.run }),
      ...(o.workflowVersion === undefined ? {} : { workflowVersion: o.workflowVersion }),
      ...(o.policy === undefined ? {} : { policy: o.policy }),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    });
    const retainUntil = new Date(Date.now() + def.retentionDays * 86_400_000).toISOString();
    const archived = await ctx.archive.put(
      ctx.workspaceId,
      bundle.path,
      { exportId, retainUntil, ...correlation },
      o.caller,
    );
    await ctx.store.db
      .insertInto('custody_exports')
      .values({
        id: exportId,
        workspace_id: ctx.workspaceId,
        definition_name: def.name,
        definition_version: def.version,
        purpose,
        actor_kind: actor.kind,
        actor_id: actor.id,
        key_id: signer.keyId,
        statement_sha256: bundle.statementSha256,
        bundle_sha256: archived.sha256,
        bundle_size: archived.size,
        payload_oxum: bundle.payloadOxum,
        recipients: JSON.stringify(recipients.map((r) => r.text)),
        ledger_index: anchor.lastIndex(),
        created_at: bundle.createdAt,
      })
      .execute();
    return {
      ...bundle,
      bundleSha256: archived.sha256,
      size: archived.size,
      archive: archived,
      keyId: signer.keyId,
      definition,
    };
  } catch (err) {
    const code = err instanceof CustosError ? err.code : 'INTERNAL';
    await ctx.audit
      .record(
        ctx.workspaceId,
        custodyEvent({
          action: 'custody.requested',
          actor,
          exportId,
          purpose,
          outcome: 'failure',
          ...correlation,
          details: { error: code },
        }),
      )
      .catch(() => undefined);
    throw err;
  }
}
