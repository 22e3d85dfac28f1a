// Background export jobs on both dialects: a job is recorded before its export runs, reports the
// records read while it runs, and ends as succeeded (with its bundle), failed (with the error code
// only) or interrupted (its process closed, or its heartbeat went stale while another process reads).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportJobs, type ExportRun } from '../../src/custody/export-jobs.ts';
import { CustosError } from '../../src/errors/index.ts';
import { createWorkspace } from '../../src/iam/index.ts';
import { createTestStore, DIALECTS, type TestStore } from '../helpers/dialects.ts';

const ACTOR = { kind: 'user' as const, id: 'usr_0123456789abcdef' };
const DEFINITION = { name: 'regulator', version: 2 };
const SHA = 'ab'.repeat(32);

/** A run the test finishes by hand. */
function controlled(): {
  run: ExportRun;
  progress: (n: number) => void;
  finish: (r: { bundleSha256: string; size: number } | Error) => void;
  signal: () => AbortSignal | undefined;
} {
  let report: (n: number) => void = () => undefined;
  let settle: (r: { bundleSha256: string; size: number } | Error) => void = () => undefined;
  let seen: AbortSignal | undefined;
  const run: ExportRun = (signal, onProgress) => {
    seen = signal;
    report = onProgress;
    return new Promise((resolve, reject) => {
      settle = (r) => {
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
      signal.addEventListener('abort', () => {
        reject(new DOMException('stopped', 'AbortError'));
      });
    });
  };
  return {
    run,
    progress: (n) => {
      report(n);
    },
    finish: (r) => {
      settle(r);
    },
    signal: () => seen,
  };
}

for (const dialect of DIALECTS) {
  describe(`export jobs (${dialect})`, () => {
    let t: TestStore;
    let now = Date.parse('2026-03-01T10:00:00Z');
    const clock = (): Date => new Date(now);
    let jobs: ExportJobs;

    beforeAll(async () => {
      t = await createTestStore(dialect);
      await createWorkspace(t.store.db, 'default');
      await createWorkspace(t.store.db, 'other');
      jobs = new ExportJobs({ store: t.store, heartbeatMs: 5, staleMs: 60_000, clock });
    });
    afterAll(async () => {
      await jobs.close();
      await t.cleanup();
    });

    const start = (exportId: string, run: ExportRun) =>
      jobs.start({ exportId, workspace: 'default', definition: DEFINITION, requestedBy: ACTOR }, run);

    it('records a running job, its progress, and its bundle once archived', async () => {
      const c = controlled();
      const job = await start('exp-0001', c.run);
      expect(job).toMatchObject({ exportId: 'exp-0001', state: 'running', records: 0, bundle: null });
      c.progress(1234);
      await expect.poll(async () => (await jobs.get('default', 'exp-0001')).records).toBe(1234);
      c.progress(2000);
      c.finish({ bundleSha256: SHA, size: 4096 });
      await jobs.settled();
      expect(await jobs.get('default', 'exp-0001')).toEqual({
        exportId: 'exp-0001',
        workspace: 'default',
        definition: DEFINITION,
        requestedBy: ACTOR,
        state: 'succeeded',
        records: 2000,
        error: null,
        bundle: { sha256: SHA, size: 4096 },
        createdAt: '2026-03-01T10:00:00.000Z',
        finishedAt: '2026-03-01T10:00:00.000Z',
      });
      await expect(jobs.get('other', 'exp-0001')).rejects.toMatchObject({
        code: 'CUSTODY_EXPORT_JOB_NOT_FOUND',
      });
    });

    it('keeps only the error code of a failed job, never its message', async () => {
      const typed = controlled();
      await start('exp-0002', typed.run);
      typed.finish(
        new CustosError('CUSTODY_ARCHIVE_IO', 'cannot write ada@example.test', {
          details: { field: 'archive', rule: 'writable' },
        }),
      );
      const plain = controlled();
      await start('exp-0003', plain.run);
      plain.finish(new Error('secret value 4111111111111111'));
      await jobs.settled();
      expect(await jobs.get('default', 'exp-0002')).toMatchObject({
        state: 'failed',
        error: 'CUSTODY_ARCHIVE_IO',
      });
      expect(await jobs.get('default', 'exp-0003')).toMatchObject({ state: 'failed', error: 'INTERNAL' });
      const rows = JSON.stringify(await t.store.db.selectFrom('custody_export_jobs').selectAll().execute());
      expect(rows).not.toContain('ada@example.test');
      expect(rows).not.toContain('4111111111111111');
    });

    it('lists the workspace jobs newest first', async () => {
      now += 1000;
      const c = controlled();
      await start('exp-0004', c.run);
      expect((await jobs.list('default')).map((j) => j.exportId)).toEqual([
        'exp-0004',
        'exp-0003',
        'exp-0002',
        'exp-0001',
      ]);
      expect(await jobs.list('other')).toEqual([]);
      c.finish({ bundleSha256: SHA, size: 1 });
      await jobs.settled();
    });

    it('ends its jobs as interrupted when the process closes, aborting their exports', async () => {
      const c = controlled();
      await start('exp-0005', c.run);
      expect(jobs.running).toBe(1);
      await jobs.close();
      expect(c.signal()?.aborted).toBe(true);
      expect(jobs.running).toBe(0);
      expect(await jobs.get('default', 'exp-0005')).toMatchObject({
        state: 'interrupted',
        error: 'CUSTODY_EXPORT_INTERRUPTED',
      });
    });

    it('runs at most maxRunning exports at once, giving each slot back when its job ends', async () => {
      const one = new ExportJobs({ store: t.store, maxRunning: 1, clock });
      const startIn = (id: string, run: ExportRun) =>
        one.start({ exportId: id, workspace: 'default', definition: DEFINITION, requestedBy: ACTOR }, run);
      const first = controlled();
      await startIn('exp-0101', first.run);
      await expect(startIn('exp-0102', controlled().run)).rejects.toMatchObject({
        code: 'CUSTODY_EXPORT_BUSY',
      });
      expect(() => one.reserve()).toThrow(expect.objectContaining({ code: 'CUSTODY_EXPORT_BUSY' }));
      first.finish({ bundleSha256: SHA, size: 1 });
      await one.settled();
      // A slot given back unused, and one whose job could not be recorded, are free again.
      one.reserve().release();
      await expect(startIn('exp-0101', controlled().run)).rejects.toBeDefined(); // the id is taken
      const last = controlled();
      await startIn('exp-0103', last.run);
      last.finish({ bundleSha256: SHA, size: 1 });
      await one.settled();
      expect((await one.get('default', 'exp-0103')).state).toBe('succeeded');
    });

    it('keeps finished jobs for 30 days, then drops them as new jobs start', async () => {
      const later = new ExportJobs({ store: t.store, clock: () => new Date(now + 30 * 86_400_000 + 5000) });
      const c = controlled();
      await later.start(
        { exportId: 'exp-0301', workspace: 'default', definition: DEFINITION, requestedBy: ACTOR },
        c.run,
      );
      const left = (await later.list('default')).map((j) => j.exportId);
      // Jobs finished more than 30 days before are gone; the one just started, and jobs of other
      // workspaces, are not.
      expect(left).toContain('exp-0301');
      expect(left).not.toContain('exp-0001');
      c.finish({ bundleSha256: SHA, size: 1 });
      await later.settled();
    });

    it('refuses new jobs once closing, and stops one reserved before', async () => {
      const closing = new ExportJobs({ store: t.store, clock });
      const slot = closing.reserve();
      await closing.close();
      expect(() => closing.reserve()).toThrow(expect.objectContaining({ code: 'CUSTODY_EXPORT_BUSY' }));
      const late = controlled();
      await slot.start(
        { exportId: 'exp-0201', workspace: 'default', definition: DEFINITION, requestedBy: ACTOR },
        late.run,
      );
      await closing.settled();
      expect(late.signal()?.aborted).toBe(true);
      expect(await closing.get('default', 'exp-0201')).toMatchObject({ state: 'interrupted' });
    });

    it('reports a job whose heartbeat went stale as interrupted, to any reader', async () => {
      const elsewhere = await t.reopen();
      try {
        const c = controlled();
        const crashing = new ExportJobs({ store: t.store, clock });
        await crashing.start(
          { exportId: 'exp-0006', workspace: 'default', definition: DEFINITION, requestedBy: ACTOR },
          c.run,
        );
        // The job's process stops renewing it (as if it crashed): a minute later it reads as interrupted.
        const reader = new ExportJobs({ store: elsewhere, clock: () => new Date(now + 61_000) });
        await crashing.close();
        await t.store.db
          .updateTable('custody_export_jobs')
          .set({
            state: 'running',
            error_code: null,
            finished_at: null,
            heartbeat_at: new Date(now).toISOString(),
          })
          .where('id', '=', 'exp-0006')
          .execute();
        expect(await reader.get('default', 'exp-0006')).toMatchObject({
          state: 'interrupted',
          error: 'CUSTODY_EXPORT_INTERRUPTED',
        });
        const fresh = new ExportJobs({ store: elsewhere, clock: () => new Date(now + 30_000) });
        expect(await fresh.get('default', 'exp-0006')).toMatchObject({ state: 'running', error: null });
      } finally {
        await elsewhere.close();
      }
    });
  });
}
