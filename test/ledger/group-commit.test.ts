// Group commit: concurrent submissions share one commit up to maxBatchSize, no submission resolves
// before its batch committed, batches never overlap, and a failed commit rejects its whole batch.
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/ledger/group-commit.ts';

describe('group commit', () => {
  it('batches concurrent submissions and resolves only after the commit', async () => {
    const batches: number[][] = [];
    let inFlight = 0;
    const committed = new Set<number>();
    const gc = new GroupCommit<number, number>({
      maxBatchSize: 10,
      maxWaitMs: 5,
      commit: async (items) => {
        inFlight += 1;
        expect(inFlight).toBe(1);
        batches.push([...items]);
        await new Promise((r) => setTimeout(r, 3));
        for (const i of items) committed.add(i);
        inFlight -= 1;
        return items.map((i) => i * 2);
      },
    });
    const results = await Promise.all(
      Array.from({ length: 35 }, (_, i) =>
        gc.submit(i).then((r) => {
          expect(committed.has(i)).toBe(true);
          return r;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 35 }, (_, i) => i * 2));
    expect(batches.map((b) => b.length)).toEqual([10, 10, 10, 5]);
    expect(batches.flat()).toEqual(Array.from({ length: 35 }, (_, i) => i));
  });

  it('waits at most maxWaitMs for a lone submission, and flush drains everything', async () => {
    const gc = new GroupCommit<number, number>({
      maxBatchSize: 100,
      maxWaitMs: 20,
      commit: (items) => Promise.resolve(items),
    });
    const start = Date.now();
    expect(await gc.submit(1)).toBe(1);
    expect(Date.now() - start).toBeLessThan(1000);
    const pending = [gc.submit(2), gc.submit(3)];
    await gc.flush();
    expect(gc.waiting).toBe(0);
    expect(await Promise.all(pending)).toEqual([2, 3]);
  });

  it('rejects every submission of a failed batch and continues with the next', async () => {
    let calls = 0;
    const gc = new GroupCommit<number, number>({
      maxBatchSize: 3,
      maxWaitMs: 5,
      commit: (items) => (++calls === 1 ? Promise.reject(new Error('disk full')) : Promise.resolve(items)),
    });
    const first = await Promise.allSettled([gc.submit(1), gc.submit(2), gc.submit(3)]);
    expect(first.every((r) => r.status === 'rejected')).toBe(true);
    expect(await gc.submit(4)).toBe(4);
  });
});
