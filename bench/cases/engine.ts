// Runtime benchmarks. (1) Runs/s of a 5-operation workflow (signed webhook → transform → store →
// transform → http to a local stub) with every control on (sealed payloads under the keyring, kill
// switches, redacted step log, metrics, ledger audit, egress policy), next to the same five
// operations called directly in a loop with the same durable writes. (2) Runs/s on PostgreSQL with
// 1, 2 and 4 workers claiming with FOR UPDATE SKIP LOCKED.
import { randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsonata from 'jsonata';
import pg from 'pg';
import { canonicalJson, open, randomBytes, seal, type JsonValue } from '../../src/crypto/index.ts';
import {
  deployWorkflow,
  installationRuntime,
  parseWebhookBody,
  receiveWebhook,
  signWebhook,
  verifySignature,
  type InstallationRuntime,
} from '../../src/engine/index.ts';
import { initInstallation, openHost, type Host } from '../../src/host/index.ts';
import type { RecordAccess } from '../../src/engine/index.ts';
import type { BenchCase } from '../types.ts';

const RUNS = 200;
const PG_RUNS = 120;
const PG_URL = process.env.CUSTOS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const source = (port: number) => `
format: custos/workflow/v1
name: bench
version: 1.0.0
owner: team-bench
trigger: { kind: webhook }
retention: transient
data:
  fields:
    name: { type: string, classification: confidential, category: 'custom:person_name' }
    email: { type: string, classification: restricted, category: email }
    amount: { type: number, classification: internal }
connectors:
  stub:
    baseUrl: http://127.0.0.1:${port}
    allowedHosts: ['127.0.0.1']
    auth: { kind: none }
    clearance: restricted
steps:
  - id: shape
    kind: transform
    expression: '{ "name": input.name, "email": $lowercase(input.email), "amount": input.amount }'
  - id: save
    kind: store
    action: put
    recordType: customer
    record: { name: '{{ input.name }}', email: '{{ steps.shape.output.email }}' }
  - id: summarize
    kind: transform
    expression: '{ "ref": steps.save.output.id, "total": input.amount * 2 }'
  - id: notify
    kind: http
    connector: stub
    method: POST
    path: /notify
    body: { ref: '{{ steps.summarize.output.ref }}', total: '{{ steps.summarize.output.total }}' }
`;

const payload = (i: number) => ({ name: `Person ${i} Example`, email: `Person.${i}@Example.com`, amount: i });

async function stub(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A stand-in for the encrypting record store: one sealed row per record (the baseline does the same). */
function sealedRecords(host: Host, dek: { id: string; key: KeyObject }): RecordAccess {
  return {
    async put(type, record) {
      const id = randomUUID();
      const data = seal(
        dek.key,
        Buffer.from(canonicalJson(record as JsonValue)),
        Buffer.from(`${type}/${id}`),
      );
      await host.store.db
        .insertInto('records')
        .values({
          workspace_id: 'default',
          type,
          id,
          dek_id: dek.id,
          subject_id: null,
          schema_digest: 'bench',
          data: data.toString('base64'),
          created_at: new Date().toISOString(),
        })
        .execute();
      return { id };
    },
    findBy: () => Promise.resolve([]),
  };
}

interface Setup {
  readonly dir: string;
  readonly host: Host;
  readonly installed: InstallationRuntime;
  readonly port: number;
  readonly dek: { id: string; key: KeyObject };
  close(): Promise<void>;
}

async function setup(databaseUrl?: string): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'custos-bench-'));
  await initInstallation({ dataDir: dir, ...(databaseUrl === undefined ? {} : { databaseUrl }) });
  const host = await openHost({ dataDir: dir, env: { CUSTOS_LOG_LEVEL: 'error' } });
  const { server, port } = await stub();
  const dek = await host.keyring.transaction((scope) => host.keyring.createDek(scope, 'default'));
  const records = sealedRecords(host, dek);
  const installed = installationRuntime({
    store: host.store,
    keyring: host.keyring,
    audit: host.audit,
    logger: host.logger,
    devEgress: { hosts: ['127.0.0.1'] },
    records: () => records,
  });
  await deployWorkflow(
    { store: host.store, audit: host.audit, compile: installed.compile },
    { workspaceId: 'default', source: source(port), filename: 'bench.yaml', actor: host.localActor },
  );
  return {
    dir,
    host,
    installed,
    port,
    dek,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await host.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitAll(s: Setup, count: number): Promise<void> {
  for (;;) {
    const row = await s.host.store.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('status', 'in', ['succeeded', 'dead_lettered'])
      .executeTakeFirst();
    if (Number(row?.n) >= count) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Ours: N signed deliveries, one in-process worker draining them; seconds from first to last. */
async function ours(s: Setup, n: number, offset: number): Promise<number> {
  const key = (await s.installed.webhookKeys('default', 'bench'))!;
  const worker = s.installed.runtime.worker({ concurrency: 1, pollMs: 5 });
  const begin = process.hrtime.bigint();
  worker.start();
  for (let i = 0; i < n; i++) {
    const body = Buffer.from(JSON.stringify(payload(offset + i)));
    await receiveWebhook(
      { store: s.host.store, start: s.installed.runtime.start, keys: s.installed.webhookKeys },
      {
        workspaceId: 'default',
        workflow: 'bench',
        body,
        signature: signWebhook(key, body, Math.floor(Date.now() / 1000)),
      },
    );
  }
  await waitAll(s, offset + n);
  const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
  await worker.stop(1000);
  return seconds;
}

function post(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/notify',
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Baseline: the same five operations in a plain loop, with the same rows written in the same transactions. */
async function baseline(s: Setup, n: number, offset: number): Promise<number> {
  const db = s.host.store.db;
  const key = randomBytes(32);
  const shape = jsonata('{ "name": input.name, "email": $lowercase(input.email), "amount": input.amount }');
  const summarize = jsonata('{ "ref": steps.save.output.id, "total": input.amount * 2 }');
  const records = sealedRecords(s.host, s.dek);
  const begin = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const body = Buffer.from(JSON.stringify(payload(offset + i)));
    const t = Math.floor(Date.now() / 1000);
    const signature = signWebhook(key, body, t);
    // 1. webhook: verify, parse, persist receipt + run (sealed input)
    const digest = verifySignature(key, signature, body, Date.now(), 300);
    const input = parseWebhookBody(body) as Record<string, JsonValue>;
    const runId = randomUUID();
    const now = () => new Date().toISOString();
    const sealed = (v: JsonValue, slot: string) =>
      seal(s.dek.key, Buffer.from(canonicalJson(v)), Buffer.from(`${runId}/${slot}`)).toString('base64url');
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('webhook_receipts')
        .values({ workspace_id: 'default', workflow: 'bench-raw', digest, received_at: now() })
        .execute();
      await trx
        .insertInto('runs')
        .values({
          id: runId,
          workspace_id: 'default',
          environment: 'raw',
          workflow: 'bench-raw',
          version: 1,
          owner: 'b',
          status: 'running',
          trigger_kind: 'webhook',
          trigger_key: null,
          input: sealed(input, 'input'),
          correlation_id: runId,
          traceparent: '',
          seq: 0,
          step_id: 'shape',
          attempt: 1,
          next_at: now(),
          lease_owner: null,
          lease_expires_at: null,
          error_code: null,
          created_by: 'b',
          created_at: now(),
          updated_at: now(),
          ended_at: null,
        })
        .execute();
    });
    const steps: Record<string, { output: JsonValue }> = {};
    const ops: [string, () => Promise<JsonValue>][] = [
      ['shape', async () => (await shape.evaluate({ input })) as JsonValue],
      [
        'save',
        async () =>
          records.put('customer', {
            name: input.name ?? null,
            email: (steps.shape?.output as { email: string }).email,
          }),
      ],
      ['summarize', async () => (await summarize.evaluate({ input, steps })) as JsonValue],
      ['notify', async () => ({ status: await post(s.port, JSON.stringify(steps.summarize?.output)) })],
    ];
    for (const [seq, [stepId, op]] of ops.entries()) {
      await db
        .insertInto('run_steps')
        .values({
          run_id: runId,
          seq,
          attempt: 1,
          step_id: stepId,
          kind: 'op',
          status: 'running',
          worker: 'raw',
          started_at: now(),
          ended_at: null,
          duration_ms: null,
          error_code: null,
          retryable: null,
          input_summary: null,
          output_summary: null,
          output: null,
          next_step: null,
        })
        .execute();
      const output = await op();
      steps[stepId] = { output };
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('runs')
          .set({ seq: seq + 1, updated_at: now() })
          .where('id', '=', runId)
          .execute();
        await trx
          .updateTable('run_steps')
          .set({
            status: 'succeeded',
            ended_at: now(),
            duration_ms: 0,
            output: sealed(output, `step/${seq}`),
          })
          .where('run_id', '=', runId)
          .where('seq', '=', seq)
          .where('attempt', '=', 1)
          .execute();
      });
    }
    await db
      .updateTable('runs')
      .set({ status: 'succeeded', ended_at: now() })
      .where('id', '=', runId)
      .execute();
    open(s.dek.key, Buffer.from(sealed(input, 'x'), 'base64url'), Buffer.from(`${runId}/x`));
  }
  return Number(process.hrtime.bigint() - begin) / 1e9;
}

async function pgSchemaUrl(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: PG_URL });
  try {
    await c.connect();
    await c.query(`create schema ${schema}`);
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => undefined);
  }
  return {
    url: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: async () => {
      const d = new pg.Client({ connectionString: PG_URL });
      await d.connect();
      await d.query(`drop schema if exists ${schema} cascade`);
      await d.end();
    },
  };
}

export const cases: BenchCase[] = [
  {
    name: 'runtime: 5-step workflow runs/s, all controls on (SQLite) vs direct loop with the same durable writes',
    unit: 'runs/s',
    target: 0.3,
    async run() {
      const s = await setup();
      try {
        await ours(s, 20, 0); // warm-up: compile, keys, connections
        await baseline(s, 20, 0);
        const oursSeconds = await ours(s, RUNS, 20);
        const baseSeconds = await baseline(s, RUNS, 0);
        const oursRate = RUNS / oursSeconds;
        const baseRate = RUNS / baseSeconds;
        return {
          ours: oursRate,
          baseline: baseRate,
          extra: { 'overhead µs per step': ((oursSeconds - baseSeconds) / RUNS / 5) * 1e6 },
        };
      } finally {
        await s.close();
      }
    },
  },
  {
    name: 'runtime: PostgreSQL runs/s with 4 workers vs 1 (SKIP LOCKED claims)',
    unit: 'runs/s',
    target: 0,
    async run() {
      const schema = await pgSchemaUrl();
      if (schema === undefined) return { ours: 0, baseline: 1, extra: { 'postgres unavailable': 1 } };
      const s = await setup(schema.url);
      const rates: Record<string, number> = {};
      try {
        let done = 0;
        for (const workers of [1, 2, 4]) {
          for (let i = 0; i < PG_RUNS; i++) {
            await s.installed.runtime.start({
              workspaceId: 'default',
              environment: 'dev',
              workflow: 'bench',
              input: payload(i),
              trigger: 'api',
              actor: s.host.localActor,
            });
          }
          const pool = Array.from({ length: workers }, () =>
            s.installed.runtime.worker({ concurrency: 1, pollMs: 5 }),
          );
          const begin = process.hrtime.bigint();
          for (const w of pool) w.start();
          done += PG_RUNS;
          await waitAll(s, done);
          const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
          await Promise.all(pool.map((w) => w.stop(1000)));
          rates[`${workers} worker${workers === 1 ? '' : 's'} runs/s`] = PG_RUNS / seconds;
        }
      } finally {
        await s.close();
        await schema.drop();
      }
      return {
        ours: rates['4 workers runs/s'] ?? 0,
        baseline: rates['1 worker runs/s'] ?? 1,
        extra: rates,
      };
    },
  },
];
