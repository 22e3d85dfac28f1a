// Crash and resume with real processes: a worker is SIGKILLed mid-step and the run resumes from its
// last committed step (SQLite: a second worker takes over; PostgreSQL: three `custos worker`
// processes, one killed). Every run completes and each step's result is committed exactly once.
import { afterEach, describe, expect, it } from 'vitest';
import { deployWorkflow, installationRuntime } from '../../../src/engine/index.ts';
import {
  install,
  spawnCli,
  startStub,
  until,
  type CliProcess,
  type Installation,
  type StubService,
} from './processes.ts';

const RUNS = 12;
const STEPS = 4;

const workflow = (stubUrl: string) => `
format: custos/workflow/v1
name: relay
version: 1.0.0
owner: team-test
trigger: { kind: manual }
retention: short
data:
  fields:
    n: { type: integer, classification: internal }
connectors:
  stub:
    baseUrl: ${stubUrl}
    allowedHosts: ["127.0.0.1"]
    auth: { kind: none }
    clearance: internal
steps:
  - id: first
    kind: transform
    expression: '{ "n": input.n }'
  - id: call
    kind: http
    connector: stub
    method: POST
    path: /work
    body: { n: "{{ input.n }}" }
    retry: { maxAttempts: 6, backoffMs: 20 }
  - id: again
    kind: http
    connector: stub
    method: POST
    path: /again
    retry: { maxAttempts: 6, backoffMs: 20 }
  - id: last
    kind: transform
    expression: '{ "status": steps.again.output.status }'
`;

function worker(dir: string, id: string): CliProcess {
  return spawnCli(
    [
      'worker',
      '--id',
      id,
      '--concurrency',
      '2',
      '--lease-ms',
      '1500',
      '--poll-ms',
      '40',
      '--dev-egress',
      '127.0.0.1',
    ],
    { CUSTOS_DATA: dir },
  );
}

describe.each(['sqlite', 'postgres'] as const)('crash and resume (%s)', (dialect) => {
  let inst: Installation | undefined;
  let stub: StubService | undefined;
  const procs: CliProcess[] = [];

  afterEach(async () => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await stub?.close();
    await inst?.cleanup();
  });

  it('completes every run with each step committed once after a worker is SIGKILLed mid-step', async () => {
    stub = await startStub(120);
    inst = await install(dialect);
    const { host } = inst;
    const { runtime, compile } = installationRuntime(host);
    await deployWorkflow(
      { store: host.store, audit: host.audit, compile },
      { workspaceId: 'default', source: workflow(stub.url), filename: 'relay.yaml', actor: host.localActor },
    );
    const runIds: string[] = [];
    for (let n = 0; n < RUNS; n++) {
      const r = await runtime.start({
        workspaceId: 'default',
        environment: 'dev',
        workflow: 'relay',
        input: { n },
        trigger: 'manual',
        actor: host.localActor,
      });
      runIds.push(r.runId);
    }
    const ids = dialect === 'postgres' ? ['w1', 'w2', 'w3'] : ['w1'];
    for (const id of ids) procs.push(worker(inst.dir, id));
    await Promise.all(procs.map((p) => p.waitFor('started')));

    // Kill w1 while it is inside an http step.
    await until(
      async () =>
        (await host.store.db
          .selectFrom('run_steps')
          .select('run_id')
          .where('worker', '=', 'w1')
          .where('status', '=', 'running')
          .where('kind', '=', 'http')
          .executeTakeFirst()) ?? undefined,
      30_000,
      'w1 to be inside an http step',
    );
    procs[0]!.child.kill('SIGKILL');
    await procs[0]!.exited;
    if (dialect === 'sqlite') {
      procs.push(worker(inst.dir, 'w4'));
      await procs.at(-1)!.waitFor('started');
    }

    await until(
      async () => {
        const open = await host.store.db
          .selectFrom('runs')
          .select('id')
          .where('status', '!=', 'succeeded')
          .execute();
        return open.length === 0 ? true : undefined;
      },
      60_000,
      'every run to succeed',
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${procs.map((p) => p.output()).join('\n')}`);
    });

    const rows = await host.store.db.selectFrom('run_steps').selectAll().execute();
    let interrupted = 0;
    for (const runId of runIds) {
      const mine = rows.filter((r) => r.run_id === runId);
      const committed = mine.filter((r) => r.status === 'succeeded').map((r) => r.seq);
      expect(committed.sort()).toEqual([...Array(STEPS).keys()]);
      interrupted += mine.filter((r) => r.status === 'interrupted').length;
      // A step re-executed after the crash sent the same Idempotency-Key as before.
      for (const seq of [1, 2]) {
        const calls = stub.calls.get(`${runId}.${seq}`) ?? 0;
        const attempts = mine.filter((r) => r.seq === seq).length;
        expect(calls).toBeGreaterThanOrEqual(1);
        expect(calls).toBeLessThanOrEqual(attempts);
      }
    }
    expect(interrupted).toBeGreaterThanOrEqual(1);
    // The run's trace id travels with every http call.
    const traces = new Set(stub.traceparents.map((t) => t.split('-')[1]));
    const correlation = await host.store.db.selectFrom('runs').select('correlation_id').execute();
    for (const c of correlation) expect(traces.has(c.correlation_id)).toBe(true);
    if (dialect === 'postgres') {
      const byWorker = new Set(rows.filter((r) => r.status === 'succeeded').map((r) => r.worker));
      expect(byWorker.size).toBeGreaterThanOrEqual(2);
    }
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
  });
});
