// Kill switches in the runtime (both dialects): engaged switches refuse new runs, in-flight runs
// halt before their next step (workflow, connector, workspace scopes), and resume after release.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KillSwitches } from '../../../src/egress/index.ts';
import { MemoryAuditSink } from '../../../src/ledger/index.ts';
import { storeKillSwitches } from '../../../src/engine/runtime/kill-switch.ts';
import type { Worker } from '../../../src/engine/runtime/worker.ts';
import { DIALECTS, createTestStore, type TestStore } from '../../helpers/dialects.ts';
import { ACTOR, completed, stubWorkflow, testRuntime } from './helpers.ts';

const WS = 'acme';
const ADMIN = { kind: 'user', id: 'admin-1' } as const;

for (const dialect of DIALECTS) {
  describe(`kill switches in the runtime (${dialect})`, () => {
    let t: TestStore;
    let worker: Worker | undefined;
    beforeEach(async () => {
      t = await createTestStore(dialect);
    });
    afterEach(async () => {
      await worker?.stop(1000);
      await t.cleanup();
    });

    it('refuses new runs and halts in-flight runs before their next step', async () => {
      const switches = new KillSwitches({ db: t.store.db, audit: new MemoryAuditSink() });
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      const ran: string[] = [];
      const wf = stubWorkflow('payroll', [
        {
          id: 'a',
          run: async () => {
            ran.push('a');
            entered();
            await gate;
            return completed(1);
          },
        },
        { id: 'b', kind: 'http', connector: 'bank', run: () => (ran.push('b'), completed(2)) },
        { id: 'c', run: () => (ran.push('c'), completed(3)) },
      ]);
      const other = stubWorkflow('other', [{ id: 'x', run: () => completed(0) }]);
      const { runtime } = await testRuntime(t.store, [wf, other], {
        killSwitches: storeKillSwitches(t.store.db),
      });
      worker = runtime.worker({ pollMs: 5 });
      worker.start();
      const start = (workflow: string) =>
        runtime.start({
          workspaceId: WS,
          environment: 'dev',
          workflow,
          input: {},
          trigger: 'api',
          actor: ACTOR,
        });

      const { runId } = await start('payroll');
      await inside;
      await switches.set({ kind: 'workflow', workspace: WS, workflow: 'payroll' }, true, ADMIN);
      release();
      const halted = await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(halted.status).toBe('halted');
      expect(halted.errorCode).toBe('RUNTIME_KILL_SWITCH_ENGAGED');
      expect(ran).toEqual(['a']);
      await expect(start('payroll')).rejects.toMatchObject({ code: 'RUNTIME_KILL_SWITCH_ENGAGED' });
      expect((await start('other')).created).toBe(true);

      // Releasing the workflow switch is not enough while its connector is stopped.
      await switches.set({ kind: 'connector', workspace: WS, connector: 'bank' }, true, ADMIN);
      await switches.set({ kind: 'workflow', workspace: WS, workflow: 'payroll' }, false, ADMIN);
      await runtime.retry(WS, runId, ACTOR);
      expect((await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 })).status).toBe('halted');
      expect(ran).toEqual(['a']);
      await expect(start('payroll')).rejects.toMatchObject({ code: 'RUNTIME_KILL_SWITCH_ENGAGED' });

      await switches.set({ kind: 'connector', workspace: WS, connector: 'bank' }, false, ADMIN);
      await runtime.retry(WS, runId, ACTOR);
      const done = await runtime.wait(WS, runId, { timeoutMs: 10_000, pollMs: 10 });
      expect(done.status).toBe('succeeded');
      expect(ran).toEqual(['a', 'b', 'c']);
      expect(done.steps.map((s) => [s.stepId, s.attempt])).toEqual([
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ]);

      await switches.set({ kind: 'workspace', workspace: WS }, true, ADMIN);
      await expect(start('other')).rejects.toMatchObject({ code: 'RUNTIME_KILL_SWITCH_ENGAGED' });
      await switches.set({ kind: 'workspace', workspace: WS }, false, ADMIN);
      await switches.set({ kind: 'global' }, true, ADMIN);
      await expect(start('other')).rejects.toMatchObject({ code: 'RUNTIME_KILL_SWITCH_ENGAGED' });
    });
  });
}
