// Export steps through custody: the run is the export's actor (role `exporter`, never clear values:
// fields the definition keeps clear only for a purpose grant leave masked or tokenized), the run and
// its workflow version are the bundle's provenance, and every custody event carries the run's
// correlation id. The bundle is written to a temporary file, archived, and the file removed; the
// step's idempotency key makes a retried attempt return the bundle an earlier attempt archived.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createExportOnce,
  defaultCustodySettings,
  openCustody,
  recordStoreSource,
  type Caller,
  type CustodyHost,
  type CustodySettings,
} from '../../custody/index.ts';
import type { Keyring } from '../../keys/index.ts';
import type { Actor, AuditSink } from '../../ledger/index.ts';
import { RecordStore, Tokenizer } from '../../privacy/index.ts';
import type { ExportReceipt, ExportRequest } from '../step-contract.ts';
import type { StepContext } from './workflows.ts';

export interface ExportDeps {
  readonly host: CustodyHost;
  readonly keyring: Keyring;
  /** Default: the installation's settings (`custody` config section). */
  readonly settings?: CustodySettings;
}

/** The actor of everything an export step does: its run. */
export function runActor(runId: string): Actor {
  return { kind: 'system', id: `run:${runId}` };
}

/** The `exports` service of createServices, bound to an installation's custody. */
export function exportRunner(
  deps: ExportDeps,
): (context: StepContext, request: ExportRequest, signal: AbortSignal) => Promise<ExportReceipt> {
  const { host, keyring } = deps;
  const settings = deps.settings ?? defaultCustodySettings(host);
  return async (context, request, signal) => {
    const actor = runActor(context.runId);
    const audit: AuditSink = {
      record: (ledger, event) =>
        host.audit.record(ledger, { ...event, correlationId: context.correlationId }),
    };
    // Custody bound to this step (cheap: handles only), so archive and key events carry the run's id.
    const custody = openCustody(
      {
        store: host.store,
        root: host.root,
        audit,
        ledgers: host.ledgers,
        paths: host.paths,
        ...(host.config === undefined ? {} : { config: host.config }),
      },
      settings,
    );
    // Decryption inside the record store is allowed for this run's export only: custody decides,
    // from the definition, which fields leave clear and which masked or tokenized.
    const allowExport = (who: Actor, permission: string): boolean =>
      permission === 'privacy.reveal' && who.kind === actor.kind && who.id === actor.id;
    const records = recordStoreSource({
      store: host.store,
      records: new RecordStore({ store: host.store, keyring, audit, authorize: allowExport }),
      tokenizer: new Tokenizer({ store: host.store, keyring, audit }),
      actor,
      purpose: request.purpose,
      correlationId: context.correlationId,
    });
    const caller: Caller = { actor, roles: ['exporter'], canReadClear: false };
    const dir = await mkdtemp(join(tmpdir(), 'custos-export-step-'));
    try {
      const result = await createExportOnce(
        {
          workspaceId: context.workspaceId,
          correlationId: context.correlationId,
          store: host.store,
          ledgers: host.ledgers,
          audit,
          keys: custody.keys,
          definitions: custody.definitions,
          archive: custody.archive,
          records,
        },
        {
          definition: request.definition,
          ...(request.version === undefined ? {} : { version: request.version }),
          out: join(dir, 'bundle.tar'),
          purpose: request.purpose,
          ...(request.recipients === undefined ? {} : { recipients: request.recipients }),
          caller,
          run: { id: context.runId },
          workflowVersion: { id: context.workflow, version: context.definition.version },
          signal,
          idempotencyKey: context.idempotencyKey,
        },
      );
      return { exportId: result.exportId, sha256: result.bundleSha256, archived: true };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
