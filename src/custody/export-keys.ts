// Per-workspace Ed25519 export signing keys: versions with one active key, rotation, revocation,
// seeds sealed by the root key provider with AAD naming the workspace, version and public key.
// The key list (with revocations) is what offline verifiers load with `--key-list`.
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  canonicalJsonBytes,
  ed25519FromSeed,
  ed25519PublicFromRaw,
  ed25519PublicPem,
  ed25519PublicRaw,
  ed25519Seed,
  generateEd25519,
} from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import type { Actor, AuditSink } from '../ledger/index.ts';
import { asBuffer, nowIso, type Store } from '../store/index.ts';
import { requireRole, type Caller } from './roles.ts';
import type { BundleSigner } from './bundle/write-bundle.ts';
import { keyIdOf } from './dsse/index.ts';
import { custodyEvent } from './events.ts';
import type { RevokedKey } from './verify/attestation-checks.ts';

/** What sealing needs of the root key provider (keys/RootKeyProvider satisfies it). */
export interface SealingProvider {
  wrap(plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer>;
  unwrap(sealed: Uint8Array, aad: Uint8Array): Promise<Buffer>;
}

export type ExportKeyState = 'active' | 'retired' | 'revoked';

export interface ExportKeyInfo {
  readonly workspaceId: string;
  readonly version: number;
  readonly keyId: string;
  readonly state: ExportKeyState;
  readonly publicKeyPem: string;
  readonly createdAt: string;
  readonly retiredAt: string | null;
  readonly revokedAt: string | null;
  readonly revokedReason: string | null;
}

export const KEY_LIST_FORMAT = 'custos.export-keys/v1';
const AAD_LABEL = 'custos/export-key/v1';

function aadFor(workspaceId: string, version: number, publicKey: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${AAD_LABEL}\0${workspaceId}\0${version}\0`, 'utf8'), publicKey]);
}

export class ExportKeys {
  readonly #store: Store;
  readonly #root: SealingProvider;
  readonly #audit: AuditSink;

  constructor(options: { store: Store; root: SealingProvider; audit: AuditSink }) {
    this.#store = options.store;
    this.#root = options.root;
    this.#audit = options.audit;
  }

  /** Every key version of the workspace, newest first. */
  async list(workspaceId: string): Promise<ExportKeyInfo[]> {
    const rows = await this.#store.db
      .selectFrom('custody_export_keys')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('version', 'desc')
      .execute();
    return rows.map((r) => ({
      workspaceId: r.workspace_id,
      version: r.version,
      keyId: r.key_id,
      state: r.state,
      publicKeyPem: ed25519PublicPem(ed25519PublicFromRaw(asBuffer(r.public_key))),
      createdAt: r.created_at,
      retiredAt: r.retired_at,
      revokedAt: r.revoked_at,
      revokedReason: r.revoked_reason,
    }));
  }

  /** The active key, created (version 1) on first use. */
  async active(workspaceId: string, actor: Actor): Promise<ExportKeyInfo> {
    const current = (await this.list(workspaceId)).find((k) => k.state === 'active');
    if (current !== undefined) return current;
    return this.#create(workspaceId, actor, 'custody.key.created');
  }

  /** Make a new active key; the previous one is retired (bundles it signed stay valid). Admin only. */
  async rotate(workspaceId: string, caller: Caller): Promise<ExportKeyInfo> {
    requireRole(caller, ['admin'], 'rotate export keys');
    return this.#create(workspaceId, caller.actor, 'custody.key.rotated');
  }

  /**
   * Revoke a key by id or version: verifiers given the key list report bundles it signed. Revoking
   * the active key makes a new one. Admin only. Throws CUSTODY_EXPORT_KEY_NOT_FOUND.
   */
  async revoke(workspaceId: string, key: string, reason: string, caller: Caller): Promise<ExportKeyInfo> {
    requireRole(caller, ['admin'], 'revoke export keys');
    const found = (await this.list(workspaceId)).find((k) => k.keyId === key || String(k.version) === key);
    if (found === undefined) {
      throw new CustosError('CUSTODY_EXPORT_KEY_NOT_FOUND', 'No export key with that id or version', {
        details: { field: 'key', rule: 'key id or version of this workspace' },
      });
    }
    if (found.state !== 'revoked') {
      const now = nowIso();
      await this.#store.db
        .updateTable('custody_export_keys')
        .set({ state: 'revoked', revoked_at: now, revoked_reason: reason })
        .where('workspace_id', '=', workspaceId)
        .where('version', '=', found.version)
        .execute();
      await this.#audit.record(
        workspaceId,
        custodyEvent({
          action: 'custody.key.revoked',
          actor: caller.actor,
          details: { keyId: found.keyId, version: found.version, reason },
        }),
      );
      if (found.state === 'active') await this.#create(workspaceId, caller.actor, 'custody.key.rotated');
    }
    return (await this.list(workspaceId)).find((k) => k.version === found.version) ?? found;
  }

  /** The active key's signer. Throws CUSTODY_EXPORT_KEY_MISSING when the seed does not open. */
  async signer(workspaceId: string, actor: Actor): Promise<BundleSigner & { version: number }> {
    const info = await this.active(workspaceId, actor);
    const row = await this.#store.db
      .selectFrom('custody_export_keys')
      .select(['sealed_seed', 'public_key'])
      .where('workspace_id', '=', workspaceId)
      .where('version', '=', info.version)
      .executeTakeFirstOrThrow();
    const publicRaw = asBuffer(row.public_key);
    let seed: Buffer;
    try {
      seed = await this.#root.unwrap(asBuffer(row.sealed_seed), aadFor(workspaceId, info.version, publicRaw));
    } catch (cause) {
      throw new CustosError(
        'CUSTODY_EXPORT_KEY_MISSING',
        'The export signing key does not open under this root key',
        {
          cause,
          details: {
            field: 'custody_export_keys.sealed_seed',
            rule: 'sealed by this root key for this workspace, version and public key',
          },
        },
      );
    }
    try {
      const pair = ed25519FromSeed(seed);
      if (!ed25519PublicRaw(pair.publicKey).equals(publicRaw)) {
        throw new CustosError('CUSTODY_EXPORT_KEY_MISSING', 'The sealed export key is not its public key', {
          details: { field: 'custody_export_keys.public_key', rule: 'public key of the sealed seed' },
        });
      }
      return {
        keyId: info.keyId,
        privateKey: pair.privateKey,
        publicKeyPem: info.publicKeyPem,
        version: info.version,
      };
    } finally {
      seed.fill(0);
    }
  }

  /** The key list document (`custody export key --list --json`) that `custos verify --key-list` reads. */
  async keyList(workspaceId: string): Promise<Buffer> {
    const keys = await this.list(workspaceId);
    return canonicalJsonBytes({
      format: KEY_LIST_FORMAT,
      workspace: workspaceId,
      keys: keys.map((k) => ({
        keyId: k.keyId,
        version: k.version,
        state: k.state,
        publicKey: k.publicKeyPem,
        createdAt: k.createdAt,
        ...(k.revokedAt === null ? {} : { revokedAt: k.revokedAt }),
        ...(k.revokedReason === null ? {} : { revokedReason: k.revokedReason }),
      })),
    });
  }

  async #create(
    workspaceId: string,
    actor: Actor,
    action: 'custody.key.created' | 'custody.key.rotated',
  ): Promise<ExportKeyInfo> {
    const pair = generateEd25519();
    const publicRaw = ed25519PublicRaw(pair.publicKey);
    const keyId = keyIdOf(pair.publicKey);
    const seed = ed25519Seed(pair.privateKey);
    const now = nowIso();
    let version = 0;
    try {
      await this.#store.db.transaction().execute(async (trx) => {
        const last = await trx
          .selectFrom('custody_export_keys')
          .select((eb) => eb.fn.max('version').as('v'))
          .where('workspace_id', '=', workspaceId)
          .executeTakeFirst();
        const v: unknown = last?.v;
        version = (v === null || v === undefined ? 0 : Number(v)) + 1;
        const sealed = await this.#root.wrap(seed, aadFor(workspaceId, version, publicRaw));
        await trx
          .updateTable('custody_export_keys')
          .set({ state: 'retired', retired_at: now })
          .where('workspace_id', '=', workspaceId)
          .where('state', '=', 'active')
          .execute();
        await trx
          .insertInto('custody_export_keys')
          .values({
            workspace_id: workspaceId,
            version,
            key_id: keyId,
            public_key: publicRaw,
            sealed_seed: sealed,
            state: 'active',
            created_at: now,
            retired_at: null,
            revoked_at: null,
            revoked_reason: null,
          })
          .execute();
      });
    } catch (cause) {
      if (cause instanceof CustosError) throw cause;
      throw new CustosError('STORE_CONFLICT', 'Export key could not be created (concurrent rotation?)', {
        cause,
        details: { field: 'custody_export_keys', rule: 'one new version at a time' },
      });
    } finally {
      seed.fill(0);
    }
    await this.#audit.record(workspaceId, custodyEvent({ action, actor, details: { keyId, version } }));
    const created = (await this.list(workspaceId)).find((k) => k.version === version);
    if (created === undefined) throw new CustosError('INTERNAL', 'Created export key is missing');
    return created;
  }
}

/** Parse a key list document into trusted (active/retired) and revoked keys. Throws INPUT_INVALID. */
export function parseKeyList(
  bytes: Uint8Array,
  field = '--key-list',
): { trusted: KeyObject[]; revoked: RevokedKey[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (cause) {
    throw new CustosError('INPUT_INVALID', `${field}: not JSON`, {
      cause,
      details: { field, rule: KEY_LIST_FORMAT },
    });
  }
  const o = doc as { format?: unknown; keys?: unknown };
  if (
    typeof doc !== 'object' ||
    doc === null ||
    o.format !== KEY_LIST_FORMAT ||
    !Array.isArray(o.keys) ||
    o.keys.length > 10_000
  ) {
    throw new CustosError('INPUT_INVALID', `${field}: not a ${KEY_LIST_FORMAT} document`, {
      details: { field, rule: KEY_LIST_FORMAT },
    });
  }
  const trusted: KeyObject[] = [];
  const revoked: RevokedKey[] = [];
  o.keys.forEach((k: unknown, i) => {
    const e = k as {
      keyId?: unknown;
      state?: unknown;
      publicKey?: unknown;
      revokedAt?: unknown;
      revokedReason?: unknown;
    };
    if (
      typeof k !== 'object' ||
      k === null ||
      typeof e.publicKey !== 'string' ||
      typeof e.state !== 'string'
    ) {
      throw new CustosError('INPUT_INVALID', `${field}: key ${i} is malformed`, {
        details: { field: `${field}/keys/${i}`, rule: 'publicKey and state' },
      });
    }
    let key: KeyObject;
    try {
      key = createPublicKey({ key: e.publicKey, format: 'pem' });
    } catch (cause) {
      throw new CustosError('INPUT_INVALID', `${field}: key ${i} is not a PEM public key`, {
        cause,
        details: { field: `${field}/keys/${i}/publicKey`, rule: 'PEM SPKI' },
      });
    }
    const keyId = keyIdOf(key);
    if (e.keyId !== undefined && e.keyId !== keyId) {
      throw new CustosError('INPUT_INVALID', `${field}: key ${i} id does not match its public key`, {
        details: { field: `${field}/keys/${i}/keyId`, rule: 'SHA-256 of the SPKI' },
      });
    }
    if (e.state === 'revoked') {
      revoked.push({
        keyId,
        ...(typeof e.revokedAt === 'string' ? { revokedAt: e.revokedAt } : {}),
        ...(typeof e.revokedReason === 'string' ? { reason: e.revokedReason } : {}),
      });
    } else {
      trusted.push(key);
    }
  });
  return { trusted, revoked };
}
