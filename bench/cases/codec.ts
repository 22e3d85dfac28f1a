// Bench: the record codec against raw AES-256-GCM on the same 10 values (bench/types.ts explains the ratio).
// Ours includes a fresh DEK per record, its wrap and unwrap under a cached KEK, headers, AAD and encoding.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { generateDataKey, unwrapDataKey, wrapDataKey } from '../../src/keys/index.ts';
import { defineDataSchema, RecordCodec, type PlainRecord } from '../../src/privacy/index.ts';
import { opsPerSecond, type BenchCase } from '../types.ts';

const FIELDS = 10;
const RECORDS = 1000;
const ITERATIONS = 4000;
const ROUNDS = 3;
const WORKSPACE = 'bench-ws';

function sampleRecords(): PlainRecord[] {
  return Array.from({ length: RECORDS }, (_, r) => {
    const rec: Record<string, string> = {};
    for (let i = 0; i < FIELDS; i++) rec[`f${i}`] = `value-${r}-${i}-${randomBytes(6).toString('hex')}`;
    return rec;
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

export const cases: BenchCase[] = [
  {
    name: 'codec encrypt+decrypt 10-field record',
    unit: 'records/s',
    target: 0.5,
    run() {
      const fields: Record<string, unknown> = {};
      for (let i = 0; i < FIELDS; i++)
        fields[`f${i}`] = { classification: 'confidential', category: 'other' };
      const codec = new RecordCodec(defineDataSchema({ type: 'bench', fields }));
      const kek = createSecretKey(randomBytes(32));
      const records = sampleRecords();
      const values = records.map((r) => Object.values(r).map((v) => Buffer.from(v as string, 'utf8')));

      const ours = (i: number): void => {
        const recordId = `r-${i}`;
        const dekId = `dek_${i}`;
        const fresh = generateDataKey();
        const wrapped = wrapDataKey(kek, WORKSPACE, dekId, 1, fresh.raw);
        fresh.raw.fill(0);
        const stored = codec.encrypt(
          { workspaceId: WORKSPACE, recordId, dek: { key: fresh.key, originVersion: 1 } },
          records[i % RECORDS],
        );
        const key = unwrapDataKey(kek, WORKSPACE, dekId, 1, wrapped);
        codec.decrypt({ workspaceId: WORKSPACE, recordId, dek: { key, originVersion: 1 } }, stored);
      };

      const rawKey = createSecretKey(randomBytes(32));
      const aad = Buffer.alloc(0);
      const baseline = (i: number): void => {
        const row = values[i % RECORDS] ?? [];
        const boxes: { iv: Buffer; ct: Buffer; tag: Buffer }[] = [];
        for (const v of row) {
          const iv = randomBytes(12);
          const c = createCipheriv('aes-256-gcm', rawKey, iv);
          c.setAAD(aad);
          const ct = Buffer.concat([c.update(v), c.final()]);
          boxes.push({ iv, ct, tag: c.getAuthTag() });
        }
        for (const b of boxes) {
          const d = createDecipheriv('aes-256-gcm', rawKey, b.iv);
          d.setAAD(aad);
          d.setAuthTag(b.tag);
          Buffer.concat([d.update(b.ct), d.final()]);
        }
      };

      // Alternate the two and keep medians: the ratio is what matters, and both see the same machine state.
      const o: number[] = [];
      const b: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        o.push(opsPerSecond(ITERATIONS, ours, 500));
        b.push(opsPerSecond(ITERATIONS, baseline, 500));
      }
      return Promise.resolve({ ours: median(o), baseline: median(b), extra: { fields: FIELDS } });
    },
  },
];
