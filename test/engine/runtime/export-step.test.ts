// An export step on both dialects: a run stores a record and exports it through a saved definition;
// the bundle is archived, its provenance names the run, the custody events carry the run's
// correlation id, and a retried attempt of the step returns the archived bundle instead of another.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localCaller, custodyFor } from '../../../src/cli/commands/export.ts';
import {
  closeDigestWorkers,
  idempotentExportId,
  parseKeyList,
  verifyBundleFile,
} from '../../../src/custody/index.ts';
import type { WorkflowDefinition } from '../../../src/engine/definition/types.ts';
import { deployWorkflow, installationRuntime } from '../../../src/engine/index.ts';
import { exportRunner } from '../../../src/engine/runtime/exports-adapter.ts';
import { DIALECTS } from '../../helpers/dialects.ts';
import { ledgerEvents } from '../../server/harness.ts';
import { install } from './processes.ts';

const SOURCE = `
format: custos/workflow/v1
name: intake
version: 1.4.0
owner: team-test
trigger: { kind: manual }
retention: short
data:
  fields:
    email: { type: string, classification: restricted, category: email, indexed: true }
    plan: { type: string, classification: internal }
steps:
  - id: save
    kind: store
    action: put
    recordType: customer
    record:
      email: '{{ input.email }}'
      plan: '{{ input.plan }}'
  - id: ship
    kind: export
    definition: customer-audit
    purpose: 'Audit of {{ input.plan }} signups'
`;

const DEFINITION = {
  name: 'customer-audit',
  outputSchemaVersion: 1,
  records: [{ type: 'customer', fields: { email: { treatment: 'clear', fallback: 'mask' }, plan: 'clear' } }],
  triggeredBy: ['exporter', 'admin'],
  purpose: 'Quarterly audit',
  retentionDays: 30,
  sourceOrganization: 'Acme GmbH',
};

const EMAIL = 'ada@example.com';

afterAll(async () => {
  await closeDigestWorkers();
});

for (const dialect of DIALECTS) {
  describe(`export step on ${dialect}`, () => {
    it('archives the bundle, names the run in it and ledgers custody with the correlation id', async () => {
      const inst = await install(dialect);
      const { host } = inst;
      const installed = installationRuntime({ ...host, custody: host });
      const worker = installed.runtime.worker({ pollMs: 10 });
      try {
        const custody = custodyFor(host);
        await custody.definitions.save('default', DEFINITION, localCaller(host));
        await deployWorkflow(
          { store: host.store, audit: host.audit, compile: installed.compile },
          { workspaceId: 'default', source: SOURCE, filename: 'intake.yaml', actor: host.localActor },
        );
        worker.start();
        const started = await installed.runtime.start({
          workspaceId: 'default',
          environment: 'dev',
          workflow: 'intake',
          input: { email: EMAIL, plan: 'pro' },
          trigger: 'api',
          actor: host.localActor,
        });
        const view = await installed.runtime.wait('default', started.runId, {
          timeoutMs: 20_000,
          pollMs: 10,
        });
        expect(view.status).toBe('succeeded');
        const output = (await installed.runtime.result('default', started.runId)) as {
          exportId: string;
          sha256: string;
          archived: boolean;
        };
        expect(output).toMatchObject({ archived: true, definition: 'customer-audit' });
        expect(output.exportId).toMatch(/^exp-/);

        const entries = await custody.archive.list('default', localCaller(host));
        const entry = entries.find((e) => e.sha256 === output.sha256);
        expect(entry?.exportId).toBe(output.exportId);

        // The archived bundle verifies offline.
        const out = join(inst.dir, 'bundle.tar');
        await custody.archive.get('default', output.sha256, out, localCaller(host));
        const list = parseKeyList(await custody.keys.keyList('default'));
        const report = await verifyBundleFile(out, { trustedKeys: list.trusted, revokedKeys: list.revoked });
        expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
        expect(report.exportId).toBe(output.exportId);
        // PROV-O names the run and the workflow version (the bundle is an unencrypted tar).
        const bytes = readFileSync(out, 'latin1');
        expect(bytes).toContain(started.runId);
        expect(bytes).toContain('1.4.0');

        const events = await ledgerEvents(host, 'default');
        const custodyEvents = events.filter(
          (e) => e.action.startsWith('custody.') && e.details?.exportId === output.exportId,
        );
        expect(custodyEvents.map((e) => e.action)).toEqual(
          expect.arrayContaining(['custody.requested', 'custody.produced', 'custody.archived']),
        );
        for (const action of ['custody.requested', 'custody.produced', 'custody.archived']) {
          const event = custodyEvents.find((e) => e.action === action);
          expect(event?.correlationId).toBe(view.correlationId);
          expect(event?.actor).toEqual({ kind: 'system', id: `run:${started.runId}` });
        }
        expect(JSON.stringify(events)).not.toContain(EMAIL);

        // A retry of the step (same run, same idempotency key) after a crash that lost its result:
        // the archived bundle comes back, and nothing new is produced or archived.
        const key = [1, 2, 3, 4]
          .map((seq) => `${started.runId}.${seq}`)
          .find((k) => idempotentExportId('default', k) === output.exportId);
        expect(key).toBeDefined();
        const retry = await exportRunner({ host, keyring: host.keyring })(
          {
            workspaceId: 'default',
            environment: 'dev',
            workflow: 'intake',
            runId: started.runId,
            stepId: 'ship',
            kind: 'export',
            correlationId: view.correlationId,
            traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
            idempotencyKey: key ?? '',
            definition: { version: '1.4.0' } as unknown as WorkflowDefinition,
          },
          { definition: 'customer-audit', purpose: 'Audit of pro signups' },
          new AbortController().signal,
        );
        expect(retry).toEqual({ exportId: output.exportId, sha256: output.sha256, archived: true });
        expect((await custody.archive.list('default', localCaller(host))).length).toBe(entries.length);
        const after = (await ledgerEvents(host, 'default')).filter(
          (e) => e.action.startsWith('custody.') && e.details?.exportId === output.exportId,
        );
        expect(after.filter((e) => e.action === 'custody.produced')).toHaveLength(1);
        expect(after.at(-1)).toMatchObject({
          action: 'custody.requested',
          correlationId: view.correlationId,
          details: { reused: true },
        });
      } finally {
        await worker.stop(1000);
        await inst.cleanup();
      }
    }, 60_000);
  });
}
