// Bench: Keyring.rewrap of 100k DEKs on SQLite, end to end (reads, unwrap, wrap, batched writes, commits),
// against raw AES-256-GCM encryption of 100k 32-byte values with one KeyObject.
import { createCipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalRootKeyFile, Keyring } from '../../src/keys/index.ts';
import { MemoryAuditSink } from '../../src/ledger/audit-sink.ts';
import { openStore } from '../../src/store/index.ts';
import { timeAsync, timeSync, type BenchCase } from '../types.ts';

const DEKS = 100_000;
const CREATE_BATCH = 10_000;
const ACTOR = { kind: 'system', id: 'bench' } as const;

/** Raw GCM encryptions per second of `values`, each under a fresh random nonce. */
function rawGcm(values: readonly Buffer[]): number {
  const key = createSecretKey(randomBytes(32));
  const seconds = timeSync(() => {
    for (const v of values) {
      const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
      c.update(v);
      c.final();
      c.getAuthTag();
    }
  });
  return values.length / seconds;
}

export const cases: BenchCase[] = [
  {
    name: 'rewrap 100k DEKs',
    unit: 'DEKs/s',
    target: 0.5,
    async run() {
      const dir = mkdtempSync(join(tmpdir(), 'custos-bench-keys-'));
      const store = await openStore({ dialect: 'sqlite', file: join(dir, 'custos.db') });
      try {
        const root = await createLocalRootKeyFile(join(dir, 'root.key'));
        const keyring = new Keyring({ store, root, audit: new MemoryAuditSink() });
        await store.db
          .insertInto('workspaces')
          .values({ id: 'bench', name: 'bench', created_at: new Date().toISOString() })
          .execute();
        await keyring.initWorkspace('bench', ACTOR);
        for (let made = 0; made < DEKS; made += CREATE_BATCH) {
          await keyring.transaction((scope) =>
            keyring.createDeks(scope, 'bench', Array<null>(CREATE_BATCH).fill(null)),
          );
        }
        await keyring.rotate('bench', ACTOR);
        const values = Array.from({ length: DEKS }, () => randomBytes(32));
        rawGcm(values.slice(0, 5000)); // warm-up
        // Baseline halves before and after: the ratio then compares like with like on a busy machine.
        const before = rawGcm(values.slice(0, DEKS / 2));
        let result = { rewrapped: 0, remaining: -1 };
        const seconds = await timeAsync(async () => {
          result = await keyring.rewrap('bench', ACTOR);
        });
        const after = rawGcm(values.slice(DEKS / 2));
        if (result.rewrapped !== DEKS || result.remaining !== 0)
          throw new Error('rewrap did not move every DEK');
        return { ours: DEKS / seconds, baseline: (before + after) / 2, extra: { seconds } };
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
