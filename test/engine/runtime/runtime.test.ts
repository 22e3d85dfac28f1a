// The durable runtime on both dialects with stub steps: happy path, retries with backoff, dead
// letters and manual retry, timeouts, cancellation, idempotency, crash recovery and lease fencing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CustosError } from '../../../src/errors/index.ts';
import { claimRuns } from '../../../src/engine/runtime/lease.ts';
import type { Worker } from '../../../src/engine/runtime/worker.ts';
import { DIALECTS, createTestStore, type TestStore } from '../../helpers/dialects.ts';
import { ACTOR, completed, stubWorkflow, testRuntime, untilAborted } from './helpers.ts';

const WS = 'acme';

for (const dialect of DIALECTS) {
  describe(`runtime (${dialect})`, () => {
    let t: TestStore;
    const workers: Worker[] = [];
    beforeEach(async () => {
      t = await createTestStore(dialect);
    });
    afterEach(async () => {
      for (const w of workers.splice(0)) await w.stop(1000);
      await t.cleanup();
    });

    it('runs steps in order, passing outputs, and logs redacted summaries', async () => {
      const wf = stubWorkflow(
        'onboard',
        [
          {
            id: 'a',
            run: (rt) => completed({ greeting: `hi ${(rt.scope.input as { name: string }).name}` }),
          },
          { id: 'b', run: (rt) => completed({ len: JSON.stringify(rt.scope.steps.a?.output).length }) },
          { id: 'c', run: () => completed({ done: true, email: 'ada@example.com' }) },
        ],
        { name: { classification: 'restricted', category: 'name' } },
      );
      const { runtime, audit } = await testRuntime(t.store, [wf]);
      const w = runtime.worker({ pollMs: 10 });
      workers.push(w);
      w.start();
      const started = await runtime.start({
        workspaceId: WS,
        environment: 'dev',
        workflow: 'onboard',
        input: { name: 'Ada Lovelace', count: 2 },
        trigger: 'manual',
        actor: ACTOR,
      });
      expect(started.created).toBe(true);
      const view = await runtime.wait(WS, started.runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(view.status).toBe('succeeded');
      expect(view.steps.map((s) => [s.stepId, s.attempt, s.outcome])).toEqual([
        ['a', 1, 'succeeded'],
        ['b', 1, 'succeeded'],
        ['c', 1, 'succeeded'],
      ]);
      expect(view.correlationId).toMatch(/^[0-9a-f]{32}$/);
      const log = JSON.stringify(view);
      expect(log).not.toContain('Ada');
      expect(log).not.toContain('Lovelace');
      expect(log).not.toContain('ada@example.com');
      expect(view.steps[0]?.inputSummary).toEqual({ name: '[restricted:name]', count: 2 });
      expect(view.steps[1]?.inputSummary).toEqual({ greeting: 'hi [restricted:name]' });
      // nothing classified is stored in clear
      const rows = await t.store.db.selectFrom('runs').select('input').execute();
      const steps = await t.store.db.selectFrom('run_steps').select(['output', 'output_summary']).execute();
      expect(JSON.stringify([rows, steps])).not.toContain('Ada');
      expect(audit.events.map((e) => e.event.action)).toEqual(['run.start', 'run.finish']);
    });

    it('retries operational failures with backoff, then dead-letters; retry revives the run', async () => {
      let calls = 0;
      let healthy = false;
      const wf = stubWorkflow('flaky', [
        {
          id: 'call',
          kind: 'http',
          retry: { maxAttempts: 3 },
          run: () => {
            calls++;
            if (!healthy) throw new CustosError('STORE_UNAVAILABLE', 'down');
            return completed({ ok: true });
          },
        },
      ]);
      const { runtime, metrics } = await testRuntime(t.store, [wf]);
      const w = runtime.worker({ pollMs: 5 });
      workers.push(w);
      w.start();
      const { runId } = await runtime.start({
        workspaceId: WS,
        environment: 'dev',
        workflow: 'flaky',
        input: {},
        trigger: 'api',
        actor: ACTOR,
      });
      const dead = await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(dead.status).toBe('dead_lettered');
      expect(dead.errorCode).toBe('STORE_UNAVAILABLE');
      expect(calls).toBe(3);
      expect(dead.steps.map((s) => s.outcome)).toEqual(['failed', 'failed', 'failed']);
      const letters = await t.store.db.selectFrom('dead_letters').selectAll().execute();
      expect(letters).toHaveLength(1);
      expect(letters[0]?.resolved_at).toBeNull();
      const text = await metrics.render();
      expect(text).toMatch(
        /custos_step_retries_total\{workflow="flaky",owner="team-test",environment="dev",step_kind="http"\} 2/,
      );
      expect(text).toMatch(/custos_run_failures_total\{[^}]*\} 1/);

      healthy = true;
      await runtime.retry(WS, runId, ACTOR);
      const revived = await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(revived.status).toBe('succeeded');
      expect(revived.steps.map((s) => [s.attempt, s.outcome])).toEqual([
        [1, 'failed'],
        [2, 'failed'],
        [3, 'failed'],
        [4, 'succeeded'],
      ]);
      const resolved = await t.store.db.selectFrom('dead_letters').select('resolved_at').executeTakeFirst();
      expect(resolved?.resolved_at).not.toBeNull();
      await expect(runtime.retry(WS, runId, ACTOR)).rejects.toMatchObject({
        code: 'RUNTIME_RUN_NOT_RETRYABLE',
      });
    });

    it('does not retry caller errors', async () => {
      let calls = 0;
      const wf = stubWorkflow('strict', [
        {
          id: 'check',
          run: () => {
            calls++;
            throw new CustosError('INPUT_INVALID', 'bad');
          },
        },
      ]);
      const { runtime } = await testRuntime(t.store, [wf]);
      const w = runtime.worker({ pollMs: 5 });
      workers.push(w);
      w.start();
      const { runId } = await runtime.start({
        workspaceId: WS,
        environment: 'dev',
        workflow: 'strict',
        input: {},
        trigger: 'api',
        actor: ACTOR,
      });
      const view = await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(view.status).toBe('dead_lettered');
      expect(calls).toBe(1);
      expect(view.steps[0]?.errorCode).toBe('INPUT_INVALID');
    });

    it('times out a step that ignores its signal', async () => {
      const wf = stubWorkflow('slow', [
        { id: 'hang', timeoutMs: 30, retry: { maxAttempts: 2 }, run: () => new Promise(() => undefined) },
      ]);
      const { runtime } = await testRuntime(t.store, [wf]);
      const w = runtime.worker({ pollMs: 5 });
      workers.push(w);
      w.start();
      const { runId } = await runtime.start({
        workspaceId: WS,
        environment: 'dev',
        workflow: 'slow',
        input: {},
        trigger: 'api',
        actor: ACTOR,
      });
      const view = await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(view.status).toBe('dead_lettered');
      expect(view.errorCode).toBe('RUNTIME_STEP_TIMEOUT');
      expect(view.steps.map((s) => s.errorCode)).toEqual(['RUNTIME_STEP_TIMEOUT', 'RUNTIME_STEP_TIMEOUT']);
      expect(view.steps[0]?.durationMs).toBeGreaterThanOrEqual(25);
    });

    it('cancels a running step through its signal, and a queued run at once', async () => {
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      let after = 0;
      const wf = stubWorkflow('long', [
        {
          id: 'wait',
          run: (rt) => {
            entered();
            return untilAborted(rt.signal);
          },
        },
        { id: 'never', run: () => (after++, completed(null)) },
      ]);
      const { runtime } = await testRuntime(t.store, [wf]);
      const w = runtime.worker({ pollMs: 5, leaseMs: 150 });
      workers.push(w);
      w.start();
      const { runId } = await runtime.start({
        workspaceId: WS,
        environment: 'dev',
        workflow: 'long',
        input: {},
        trigger: 'api',
        actor: ACTOR,
      });
      await inside;
      await runtime.cancel(WS, runId, ACTOR);
      const view = await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(view.status).toBe('cancelled');
      expect(view.steps.map((s) => s.outcome)).toEqual(['cancelled']);
      expect(after).toBe(0);
      await expect(runtime.cancel(WS, runId, ACTOR)).rejects.toMatchObject({ code: 'RUNTIME_RUN_FINISHED' });

      await w.stop(1000);
      const queued = await runtime.start({
        workspaceId: WS,
        environment: 'dev',
        workflow: 'long',
        input: {},
        trigger: 'api',
        actor: ACTOR,
      });
      const summary = await runtime.cancel(WS, queued.runId, ACTOR);
      expect(summary.status).toBe('cancelled');
    });

    it('honours trigger idempotency keys', async () => {
      const wf = stubWorkflow('idem', [{ id: 'a', run: () => completed(1) }]);
      const { runtime } = await testRuntime(t.store, [wf]);
      const req = {
        workspaceId: WS,
        environment: 'dev',
        workflow: 'idem',
        input: { a: 1 },
        trigger: 'api' as const,
        actor: ACTOR,
        idempotencyKey: 'order-42',
      };
      const first = await runtime.start(req);
      const again = await runtime.start(req);
      expect(again).toMatchObject({ runId: first.runId, created: false });
      await expect(runtime.start({ ...req, input: { a: 2 } })).rejects.toMatchObject({
        code: 'RUNTIME_IDEMPOTENCY_CONFLICT',
      });
      await expect(runtime.start({ ...req, idempotencyKey: 'bad key' })).rejects.toMatchObject({
        code: 'INPUT_INVALID',
      });
      const count = await t.store.db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst();
      expect(Number(count?.n)).toBe(1);
    });

    it('resumes a run whose worker died mid-step from its last committed step', async () => {
      let bCalls = 0;
      let aCalls = 0;
      const wf = stubWorkflow('resume', [
        { id: 'a', run: () => (aCalls++, completed('A')) },
        { id: 'b', run: (rt) => (bCalls++, completed(`${rt.scope.steps.a?.output as string}B`)) },
      ]);
      const { runtime } = await testRuntime(t.store, [wf]);
      const { runId } = await runtime.start({
        workspaceId: WS,
        environment: 'dev',
        workflow: 'resume',
        input: {},
        trigger: 'api',
        actor: ACTOR,
      });
      // A "worker" claims, commits step a, starts step b and dies without a trace.
      const now = Date.now();
      const [claimed] = await claimRuns(t.store, 'dead-worker', 50, 1, now);
      expect(claimed).toBeDefined();
      await runtime.runs.beginStep(claimed!.lease, {
        cursor: { seq: 0, stepId: 'a', attempt: 1, attemptFloor: 1 },
        kind: 'transform',
        worker: 'dead-worker',
        inputSummary: '{}',
        now: new Date(now).toISOString(),
      });
      await runtime.runs.transition(
        claimed!.lease,
        { seq: 0, stepId: 'a', attempt: 1, attemptFloor: 1 },
        { status: 'succeeded', now: new Date(now).toISOString(), durationMs: 1, output: await sealed('A') },
        { kind: 'advance', seq: 1, stepId: 'b' },
        { workspaceId: WS, workflow: 'resume', now: new Date(now).toISOString() },
      );
      await runtime.runs.beginStep(claimed!.lease, {
        cursor: { seq: 1, stepId: 'b', attempt: 1, attemptFloor: 1 },
        kind: 'transform',
        worker: 'dead-worker',
        inputSummary: '{}',
        now: new Date(now).toISOString(),
      });
      // Until the lease expires nobody else may take the run.
      expect(await claimRuns(t.store, 'other', 1000, 1, now + 10)).toHaveLength(0);
      const w = runtime.worker({ pollMs: 5 });
      workers.push(w);
      w.start();
      const view = await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(view.status).toBe('succeeded');
      expect(aCalls).toBe(0);
      expect(bCalls).toBe(1);
      expect(view.steps.map((s) => [s.stepId, s.attempt, s.outcome])).toEqual([
        ['a', 1, 'succeeded'],
        ['b', 1, 'interrupted'],
        ['b', 2, 'succeeded'],
      ]);

      async function sealed(value: string): Promise<string> {
        const row = await t.store.db
          .selectFrom('runs')
          .select('input')
          .where('id', '=', runId)
          .executeTakeFirstOrThrow();
        const keyId = runtime.codec.keyIdOf(row.input);
        return runtime.codec.seal({ workspaceId: WS, runId, slot: 'step/0' }, keyId, value);
      }
    });

    it('refuses commits from a worker whose lease was taken over', async () => {
      const wf = stubWorkflow('fence', [{ id: 'a', run: () => completed(1) }]);
      const { runtime } = await testRuntime(t.store, [wf]);
      await runtime.start({
        workspaceId: WS,
        environment: 'dev',
        workflow: 'fence',
        input: {},
        trigger: 'api',
        actor: ACTOR,
      });
      const now = Date.now();
      const [first] = await claimRuns(t.store, 'w1', 10, 1, now);
      const [second] = await claimRuns(t.store, 'w2', 10_000, 1, now + 20);
      expect(second?.lease.epoch).toBe((first?.lease.epoch ?? 0) + 1);
      const cursor = { seq: 0, stepId: 'a', attempt: 1, attemptFloor: 1 };
      const start = {
        cursor,
        kind: 'transform',
        worker: 'w1',
        inputSummary: '{}',
        now: new Date(now).toISOString(),
      };
      await expect(runtime.runs.beginStep(first!.lease, start)).rejects.toMatchObject({
        code: 'RUNTIME_LEASE_LOST',
      });
      await runtime.runs.beginStep(second!.lease, { ...start, worker: 'w2' });
      await expect(
        runtime.runs.transition(
          first!.lease,
          cursor,
          { status: 'succeeded', now: new Date(now).toISOString(), durationMs: 1, output: 'x' },
          { kind: 'succeed' },
          { workspaceId: WS, workflow: 'fence', now: new Date(now).toISOString() },
        ),
      ).rejects.toMatchObject({ code: 'RUNTIME_LEASE_LOST' });
      const steps = await t.store.db.selectFrom('run_steps').select('status').execute();
      expect(steps.map((s) => s.status)).toEqual(['running']);
    });
  });
}
