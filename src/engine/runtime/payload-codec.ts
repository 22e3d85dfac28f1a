// Seals run inputs and step outputs at rest: AES-256-GCM under a data key per run, wrapped by the
// workspace KEK (keyring); the AAD binds workspace, run and slot so a ciphertext cannot be moved.
import { createSecretKey, type KeyObject } from 'node:crypto';
import { canonicalJson, open, randomBytes, seal, type JsonValue } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import type { Keyring } from '../../keys/index.ts';

const FORMAT = 'p1';
const AAD_LABEL = 'custos/run-payload/v1';

/** Where a sealed payload belongs; part of its AAD. */
export interface PayloadScope {
  readonly workspaceId: string;
  readonly runId: string;
  /** `input` or `step/<seq>`. */
  readonly slot: string;
}

/** Where data keys come from: the workspace keyring in production, memory in unit tests. */
export interface DataKeySource {
  create(workspaceId: string): Promise<{ readonly id: string; readonly key: KeyObject }>;
  get(workspaceId: string, id: string): Promise<KeyObject>;
}

export interface PayloadCodec {
  /** A fresh data key for a new run; returns its id. */
  newKey(workspaceId: string): Promise<string>;
  seal(scope: PayloadScope, keyId: string, value: JsonValue): Promise<string>;
  /** Throws CRYPTO_CIPHERTEXT_MALFORMED, CRYPTO_DECRYPT_FAILED and the keyring's unwrap errors. */
  open(scope: PayloadScope, sealed: string): Promise<JsonValue>;
  /** The data key id a sealed payload names. */
  keyIdOf(sealed: string): string;
}

function aad(scope: PayloadScope): Buffer {
  return Buffer.from(JSON.stringify([AAD_LABEL, scope.workspaceId, scope.runId, scope.slot]), 'utf8');
}

function parse(sealed: string): { keyId: string; box: Buffer } {
  const parts = sealed.split('.');
  if (
    parts.length !== 3 ||
    parts[0] !== FORMAT ||
    parts[1] === undefined ||
    parts[1] === '' ||
    parts[2] === undefined
  ) {
    throw new CustosError('CRYPTO_CIPHERTEXT_MALFORMED', 'Sealed run payload is malformed', {
      details: { rule: `${FORMAT}.<key>.<box>` },
    });
  }
  return { keyId: parts[1], box: Buffer.from(parts[2], 'base64url') };
}

/** A codec over `source`, caching unwrapped data keys of recent runs. */
export function createPayloadCodec(source: DataKeySource, cacheSize = 1024): PayloadCodec {
  const cache = new Map<string, KeyObject>();
  const remember = (ws: string, id: string, key: KeyObject): void => {
    if (cache.size >= cacheSize) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(`${ws}\u0000${id}`, key);
  };
  const keyFor = async (ws: string, id: string): Promise<KeyObject> => {
    const hit = cache.get(`${ws}\u0000${id}`);
    if (hit !== undefined) return hit;
    const key = await source.get(ws, id);
    remember(ws, id, key);
    return key;
  };
  return {
    async newKey(workspaceId) {
      const { id, key } = await source.create(workspaceId);
      remember(workspaceId, id, key);
      return id;
    },
    async seal(scope, keyId, value) {
      const key = await keyFor(scope.workspaceId, keyId);
      const box = seal(key, Buffer.from(canonicalJson(value), 'utf8'), aad(scope));
      return `${FORMAT}.${keyId}.${box.toString('base64url')}`;
    },
    async open(scope, sealed) {
      const { keyId, box } = parse(sealed);
      const key = await keyFor(scope.workspaceId, keyId);
      const plain = open(key, box, aad(scope));
      try {
        return JSON.parse(plain.toString('utf8')) as JsonValue;
      } finally {
        plain.fill(0);
      }
    },
    keyIdOf(sealed) {
      return parse(sealed).keyId;
    },
  };
}

/** Data keys from the workspace keyring: one DEK per run, wrapped by the active KEK version. */
export function keyringKeySource(keyring: Keyring): DataKeySource {
  return {
    async create(workspaceId) {
      const dek = await keyring.transaction((scope) => keyring.createDek(scope, workspaceId));
      return { id: dek.id, key: dek.key };
    },
    async get(workspaceId, id) {
      return (await keyring.unwrapDek(null, workspaceId, id)).key;
    },
  };
}

/** Data keys held in memory only (unit tests and benchmarks of the runtime without a keyring). */
export function memoryKeySource(): DataKeySource {
  const keys = new Map<string, KeyObject>();
  return {
    create(workspaceId) {
      const id = `mem_${randomBytes(12).toString('base64url')}`;
      const key = createSecretKey(randomBytes(32));
      keys.set(`${workspaceId}/${id}`, key);
      return Promise.resolve({ id, key });
    },
    get(workspaceId, id) {
      const key = keys.get(`${workspaceId}/${id}`);
      if (key === undefined) {
        return Promise.reject(
          new CustosError('KEYS_DEK_UNKNOWN', 'Data key not found', { details: { field: 'dek' } }),
        );
      }
      return Promise.resolve(key);
    },
  };
}
