// Builds real export bundles for tests: in-memory records, a throwaway Ed25519 export key and an
// in-memory ledger, written with the production bundle writer.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { ed25519PublicPem, generateEd25519 } from '../../../src/crypto/index.ts';
import { keyIdOf } from '../../../src/custody/dsse/index.ts';
import { createPayloadPool, encodeRecords, type ExportRecord } from '../../../src/custody/bundle/ndjson.ts';
import {
  writeBundle,
  type BundleResult,
  type BundleSigner,
} from '../../../src/custody/bundle/write-bundle.ts';
import type { AgeRecipient } from '../../../src/custody/age/index.ts';
import type { ChunkPool } from '../../../src/custody/io/chunk-pool.ts';
import { MemoryLedger } from './memory-ledger.ts';

export interface TestKey extends BundleSigner {
  readonly publicKey: KeyObject;
}

export function testKey(): TestKey {
  const { privateKey, publicKey } = generateEd25519();
  return { keyId: keyIdOf(publicKey), privateKey, publicKey, publicKeyPem: ed25519PublicPem(publicKey) };
}

export function sampleRecords(n: number, seed = 'x'): ExportRecord[] {
  const out: ExportRecord[] = [];
  for (let i = 0; i < n; i++) {
    const id = `r${String(i).padStart(6, '0')}`;
    const h = createHash('sha256').update(`${seed}${i}`).digest('hex');
    out.push({
      type: 'customer',
      id,
      data: {
        name: `Name ${h.slice(0, 6)}`,
        email: `u${i}@example.test`,
        score: i * 1.5,
        tags: ['a', 'b'],
        zip: null,
      },
    });
  }
  return out;
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += 64) yield await Promise.resolve(items.slice(i, i + 64));
}

export interface MakeBundleOptions {
  readonly records?: readonly ExportRecord[];
  readonly key?: TestKey;
  readonly ledger?: MemoryLedger;
  readonly recipients?: readonly AgeRecipient[];
  readonly exportId?: string;
  /** Encode into the export's chunk pool (hashed in place), as the real export does; default true. */
  readonly pooled?: boolean;
  /** The chunk pool to encode into (instead of a new one). */
  readonly pool?: ChunkPool;
  readonly signal?: AbortSignal;
}

export async function makeBundle(
  dir: string,
  name: string,
  o: MakeBundleOptions = {},
): Promise<BundleResult & { key: TestKey; ledger: MemoryLedger }> {
  const key = o.key ?? testKey();
  const ledger = o.ledger ?? new MemoryLedger();
  const pool = o.pooled === false ? undefined : (o.pool ?? createPayloadPool());
  const result = await writeBundle({
    out: join(dir, name),
    exportId: o.exportId ?? `exp-${name.replace(/[^a-z0-9]/gi, '')}`,
    workspace: 'acme',
    sourceOrganization: 'Acme Test Org',
    startedAt: new Date().toISOString(),
    outputSchemaVersion: 1,
    definition: { name: 'customers', version: 3, digest: 'sha256:00' },
    purpose: 'regulator request 42',
    actor: { kind: 'local-operator', id: 'tester' },
    payload: encodeRecords(iterate(o.records ?? sampleRecords(50)), pool === undefined ? {} : { pool }),
    ...(pool === undefined ? {} : { payloadPool: pool }),
    recipients: o.recipients ?? [],
    signer: key,
    ledger,
    run: { id: 'run-1' },
    workflowVersion: { id: 'wf-customers', version: 7 },
    policy: { id: 'export-policy', version: 2 },
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
  return { ...result, key, ledger };
}
