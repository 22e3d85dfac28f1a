// Durability and the sequencer across processes: a child appending in a loop is killed with
// SIGKILL and every acknowledged entry survives with a verifiable ledger (both dialects); two
// processes appending to one PostgreSQL ledger leave no gaps and no duplicates.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { hashLeaf, rootOf } from '../../src/ledger/index.ts';
import { DIALECTS, createTestStore, type TestStore } from '../helpers/dialects.ts';
import { openLedgers, testEvent } from './helpers.ts';

const CHILD = new URL('./fixtures/append-child.ts', import.meta.url).pathname;

interface Child {
  readonly proc: ChildProcess;
  readonly acks: Map<number, string>;
  readonly done: Promise<number | null>;
  waitFor(n: number): Promise<void>;
}

function startChild(config: object): Child {
  const proc = spawn(process.execPath, [CHILD, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acks = new Map<number, string>();
  const waiters: { n: number; resolve: () => void }[] = [];
  const lines = createInterface({ input: proc.stdout });
  lines.on('line', (line) => {
    const m = /^ack (\d+) (\S+)$/.exec(line);
    if (m === null) return;
    acks.set(Number(m[1]), m[2]!);
    for (const w of waiters.filter((x) => acks.size >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const done = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      resolve(code);
    }),
  );
  return {
    proc,
    acks,
    done,
    waitFor: (n) =>
      new Promise<void>((resolve, reject) => {
        if (acks.size >= n) {
          resolve();
          return;
        }
        waiters.push({ n, resolve });
        void done.then(() => {
          reject(new Error(`child exited after ${acks.size} acks`));
        });
      }),
  };
}

for (const dialect of DIALECTS) {
  describe(`ledger across processes (${dialect})`, () => {
    let t: TestStore | undefined;
    afterEach(async () => {
      await t?.cleanup();
      t = undefined;
    });

    it('keeps every acknowledged entry through SIGKILL and verifies after restart', async () => {
      t = await createTestStore(dialect);
      const child = startChild({ store: t.options, ledger: 'system', tag: 'crash', concurrency: 8 });
      await child.waitFor(400);
      child.proc.kill('SIGKILL');
      await child.done;
      const acked = new Map(child.acks);
      const ledgers = openLedgers(t.store);
      try {
        const size = await ledgers.store.size('system');
        expect(size).toBeGreaterThanOrEqual(acked.size);
        const entries = await ledgers.store.entries('system', 0, size);
        for (const [index, correlationId] of acked) {
          expect(
            (JSON.parse(entries[index]!.toString('utf8')) as { correlationId: string }).correlationId,
          ).toBe(correlationId);
        }
        const report = await ledgers.verify('system');
        expect(report.ok, JSON.stringify(report.failure)).toBe(true);
        expect(report.size).toBe(size);
        // The sequencer picks up from the stored right edge.
        await Promise.all(Array.from({ length: 40 }, (_, i) => ledgers.append('system', testEvent(i))));
        const cp = await (await ledgers.open('system')).checkpoint();
        const leaves = (await ledgers.store.entries('system', 0, size + 40)).map(hashLeaf);
        expect(cp.root.equals(rootOf(leaves))).toBe(true);
        expect((await ledgers.verify('system')).ok).toBe(true);
      } finally {
        await ledgers.close();
      }
    });

    if (dialect === 'postgres') {
      it('two processes appending to one ledger leave no gaps and no duplicates', async () => {
        t = await createTestStore(dialect);
        const ledgers = openLedgers(t.store);
        await (await ledgers.open('system')).checkpoint();
        const a = startChild({ store: t.options, ledger: 'system', tag: 'a', count: 300, concurrency: 6 });
        const b = startChild({ store: t.options, ledger: 'system', tag: 'b', count: 300, concurrency: 6 });
        expect(await a.done).toBe(0);
        expect(await b.done).toBe(0);
        try {
          expect(await ledgers.store.size('system')).toBe(600);
          const entries = await ledgers.store.entries('system', 0, 600);
          const ids = entries.map(
            (e) => (JSON.parse(e.toString('utf8')) as { correlationId: string }).correlationId,
          );
          expect(new Set(ids).size).toBe(600);
          for (const child of [a, b]) {
            for (const [index, id] of child.acks) expect(ids[index]).toBe(id);
          }
          const report = await ledgers.verify('system');
          expect(report.ok, JSON.stringify(report.failure)).toBe(true);
          expect(report.latestCheckpointSize).toBe(600);
        } finally {
          await ledgers.close();
        }
      });
    }
  });
}
