// The onboarding example through the real runtime, executors, vault, egress and encrypting record
// store (embedded): the record is stored encrypted and blind-indexed, the API key is injected from
// the vault, the notification is masked, and a sink scan finds no seeded PII or secret in the run
// log, errors, metrics, log lines, the ledger or the database file.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deployWorkflow,
  installationRuntime,
  receiveWebhook,
  signWebhook,
  type InstallationRuntime,
} from '../../../src/engine/index.ts';
import { initInstallation, openHost, type Host } from '../../../src/host/index.ts';
import { RecordStore } from '../../../src/privacy/index.ts';
import { SecretsVault } from '../../../src/secrets/index.ts';
import { startMockHrApi, type MockHrApi } from '../../../examples/onboarding/mock-hr-api.ts';

const EXAMPLE = join(import.meta.dirname, '../../../examples/onboarding');
const SAMPLE = JSON.parse(readFileSync(join(EXAMPLE, 'sample-input.json'), 'utf8')) as Record<string, string>;
const API_KEY = 'hr-key-7Qm2xR9vLp4sT8wZ';

describe('onboarding example (embedded)', () => {
  let dir: string;
  let host: Host;
  let api: MockHrApi;
  let installed: InstallationRuntime;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custos-onboarding-'));
    await initInstallation({ dataDir: dir });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    host = await openHost({ dataDir: dir, env: {}, logDestination: sink });
    api = await startMockHrApi({ apiKey: API_KEY, port: 0 });
    installed = installationRuntime({
      store: host.store,
      keyring: host.keyring,
      audit: host.audit,
      logger: host.logger,
      devEgress: { hosts: ['127.0.0.1'] },
    });
    await new SecretsVault({ store: host.store, keyring: host.keyring, audit: host.audit }).set({
      workspace: 'default',
      name: 'HR_API_KEY',
      connector: 'hr',
      value: API_KEY,
      actor: host.localActor,
    });
    const source = readFileSync(join(EXAMPLE, 'workflow.yaml'), 'utf8').replaceAll(
      '127.0.0.1:4780',
      `127.0.0.1:${api.port}`,
    );
    await deployWorkflow(
      { store: host.store, audit: host.audit, compile: installed.compile },
      { workspaceId: 'default', source, filename: 'workflow.yaml', actor: host.localActor },
    );
  });

  afterAll(async () => {
    await api.close();
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs end to end with only redacted values in every sink', async () => {
    const worker = installed.runtime.worker({ pollMs: 10 });
    worker.start();
    const body = Buffer.from(JSON.stringify(SAMPLE));
    const key = await installed.webhookKeys('default', 'employee-onboarding');
    const started = await receiveWebhook(
      { store: host.store, start: installed.runtime.start, keys: installed.webhookKeys },
      {
        workspaceId: 'default',
        workflow: 'employee-onboarding',
        body,
        signature: signWebhook(key!, body, Math.floor(Date.now() / 1000)),
      },
    );
    const view = await installed.runtime.wait('default', started.runId, { timeoutMs: 30_000, pollMs: 10 });
    await worker.stop(1000);
    expect(view.status, JSON.stringify(view)).toBe('succeeded');
    expect(view.steps.map((s) => s.stepId)).toEqual(['save', 'register', 'compose', 'notify']);

    // The record is stored encrypted, whole, found by its blind-indexed e-mail and tied to its subject.
    const recordId = (view.steps[0]?.outputSummary as { id: string }).id;
    expect(recordId).toBe(`${started.runId}.0`);
    const records = new RecordStore({
      store: host.store,
      keyring: host.keyring,
      audit: host.audit,
      authorize: () => true,
    });
    const stored = await records.get('default', 'employee', recordId, {
      reveal: true,
      actor: host.localActor,
      purpose: 'test: the store step wrote the whole record',
    });
    expect(stored.fields).toEqual(SAMPLE);
    expect(stored.subjectId).toMatch(/^sub_/);
    expect(await records.findBy('default', 'employee', 'email', SAMPLE.email!.toUpperCase())).toEqual([
      recordId,
    ]);
    const row = await host.store.db.selectFrom('records').select('data').executeTakeFirstOrThrow();
    for (const v of Object.values(SAMPLE)) expect(row.data).not.toContain(v);
    // HR got the name and the API key; the notification is masked.
    const hr = api.received.find((r) => r.path === '/hr/employees');
    expect(hr?.idempotencyKey).toBe(`${started.runId}.1`);
    const note = JSON.stringify(api.received.find((r) => r.path === '/notify/messages')?.body);
    expect(note).toContain('Welcome aboard');
    for (const v of [SAMPLE.email, SAMPLE.bankAccount, SAMPLE.nationalId, SAMPLE.phone])
      expect(note).not.toContain(v);

    // Sink scan: the run log (API/CLI view), stored summaries, metrics, log lines and ledger entries.
    const summaries = await host.store.db
      .selectFrom('run_steps')
      .select(['input_summary', 'output_summary', 'error_code'])
      .execute();
    const runsRaw = await host.store.db.selectFrom('runs').select(['input', 'error_code']).execute();
    const ledgerRows = (await host.store.db.selectFrom('ledger_entries').select('entry').execute()).map((r) =>
      Buffer.from(r.entry).toString('utf8'),
    );
    expect(ledgerRows.some((e) => e.includes('run.finish'))).toBe(true);
    const sinks = {
      view: JSON.stringify(view),
      summaries: JSON.stringify(summaries),
      runs: JSON.stringify(runsRaw),
      metrics: await installed.metrics.render(),
      logs: logs.join(''),
      ledger: ledgerRows.join('\n'),
    };
    const seeded = [
      SAMPLE.fullName,
      SAMPLE.email,
      SAMPLE.phone,
      SAMPLE.nationalId,
      SAMPLE.bankAccount,
      API_KEY,
    ];
    for (const [sink, text] of Object.entries(sinks)) {
      for (const value of seeded)
        expect(text.includes(value!), `${sink} contains a seeded value`).toBe(false);
    }
    // The database file itself (and its WAL) holds no seeded value in clear.
    const files = ['custos.db', 'custos.db-wal'].map((f) => join(dir, f)).filter((f) => existsSync(f));
    expect(files.length).toBeGreaterThan(0);
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    for (const value of seeded) expect(bytes.includes(Buffer.from(value!)), 'database file').toBe(false);
    expect(sinks.view).toContain('[restricted:custom:national_id]');
  });

  it('reports a failing step with a code, never the data, in errors and the dead letter', async () => {
    const worker = installed.runtime.worker({ pollMs: 10 });
    worker.start();
    await api.close();
    const started = await installed.runtime.start({
      workspaceId: 'default',
      environment: 'dev',
      workflow: 'employee-onboarding',
      input: SAMPLE,
      trigger: 'api',
      actor: host.localActor,
    });
    const view = await installed.runtime.wait('default', started.runId, { timeoutMs: 30_000, pollMs: 10 });
    await worker.stop(1000);
    expect(view.status).toBe('dead_lettered');
    expect(view.errorCode).toMatch(/^[A-Z_]+$/);
    const text = JSON.stringify(view) + logs.join('');
    for (const v of Object.values(SAMPLE)) expect(text).not.toContain(v);
    expect(text).not.toContain(API_KEY);
    api = await startMockHrApi({ apiKey: API_KEY, port: 0 });
  });
});
