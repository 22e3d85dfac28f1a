// Tokenization: deterministic tokens (HMAC under a per-domain key: equal values give equal tokens, so joins
// survive) and reversible tokens kept in the token vault, whose detokenization needs a permission and is audited.
import { CustosError } from '../errors/index.ts';
import { hmacSha256 } from '../crypto/index.ts';
import type { Keyring } from '../keys/index.ts';
import type { Actor, AuditSink, ResourceRef } from '../ledger/index.ts';
import { nowIso, type Store } from '../store/index.ts';
import { checkPurpose, denyAll, type Authorize } from './authorize.ts';
import { decryptField, encryptField, type FieldBinding } from './field-ciphertext.ts';
import { checkValue } from './values.ts';

const DOMAIN = /^[a-z][a-z0-9_.-]{0,63}$/;
const DETERMINISTIC_PREFIX = 'dt1_';
const REVERSIBLE_PREFIX = 'rt1_';
const TOKEN = /^(dt1|rt1)_[A-Za-z0-9_-]{22}$/;
/** 128 bits of HMAC: collisions stay negligible for any realistic number of distinct values. */
const TOKEN_BYTES = 16;

export function checkTokenDomain(domain: string): void {
  if (!DOMAIN.test(domain)) {
    throw new CustosError('INPUT_INVALID', 'Token domain must match [a-z][a-z0-9_.-]{0,63}', {
      details: { field: 'domain', rule: '[a-z][a-z0-9_.-]{0,63}' },
    });
  }
}

function checkText(value: string): void {
  const why = checkValue('string', value);
  if (why !== undefined || value === '') {
    throw new CustosError('INPUT_INVALID', `Value to tokenize must be ${why ?? 'non-empty'}`, {
      details: { field: 'value', rule: why ?? 'non-empty string' },
    });
  }
}

/** HKDF contexts of the token keys of a domain. */
export function tokenKeyContext(kind: 'deterministic' | 'reversible', domain: string): string {
  return `${kind}/${domain}`;
}

/** `dt1_` + 22 base64url characters of HMAC-SHA-256(domain key, value). Same key and value, same token. */
export function deterministicToken(domainKey: Uint8Array, value: string): string {
  return (
    DETERMINISTIC_PREFIX +
    hmacSha256(domainKey, 'custos/token/v1\u0000', value).subarray(0, TOKEN_BYTES).toString('base64url')
  );
}

function reversibleToken(domainKey: Uint8Array, value: string): string {
  return (
    REVERSIBLE_PREFIX +
    hmacSha256(domainKey, 'custos/vault-token/v1\u0000', value).subarray(0, TOKEN_BYTES).toString('base64url')
  );
}

export interface TokenizerOptions {
  readonly store: Store;
  readonly keyring: Keyring;
  readonly audit: AuditSink;
  /** Who may detokenize; deny-all when omitted. */
  readonly authorize?: Authorize;
}

export interface DetokenizeOptions {
  readonly actor: Actor;
  /** Why the value is needed; recorded in the audit event. */
  readonly purpose: string;
}

export class Tokenizer {
  readonly #store: Store;
  readonly #keyring: Keyring;
  readonly #audit: AuditSink;
  readonly #authorize: Authorize;
  readonly #keys = new Map<string, Buffer>();

  constructor({ store, keyring, audit, authorize = denyAll }: TokenizerOptions) {
    this.#store = store;
    this.#keyring = keyring;
    this.#audit = audit;
    this.#authorize = authorize;
  }

  async #key(workspaceId: string, kind: 'deterministic' | 'reversible', domain: string): Promise<Buffer> {
    checkTokenDomain(domain);
    const id = `${workspaceId}\u0000${kind}\u0000${domain}`;
    let key = this.#keys.get(id);
    if (!key) {
      key = await this.#keyring.deriveKey(workspaceId, 'token', tokenKeyContext(kind, domain));
      this.#keys.set(id, key);
    }
    return key;
  }

  /** A deterministic, irreversible token. Throws INPUT_INVALID, KEYS_WORKSPACE_UNKNOWN. */
  async deterministic(workspaceId: string, domain: string, value: string): Promise<string> {
    checkText(value);
    return deterministicToken(await this.#key(workspaceId, 'deterministic', domain), value);
  }

  /**
   * A reversible token: deterministic too (the same value gets the same token), with the value encrypted in the
   * token vault under its own DEK. Throws INPUT_INVALID, KEYS_WORKSPACE_UNKNOWN.
   */
  async tokenize(workspaceId: string, domain: string, value: string): Promise<string> {
    checkText(value);
    const token = reversibleToken(await this.#key(workspaceId, 'reversible', domain), value);
    await this.#keyring.transaction(async (scope) => {
      const existing = await scope.db
        .selectFrom('token_vault')
        .select('token')
        .where('workspace_id', '=', workspaceId)
        .where('domain', '=', domain)
        .where('token', '=', token)
        .executeTakeFirst();
      if (existing) return;
      const dek = await this.#keyring.createDek(scope, workspaceId);
      const ciphertext = encryptField(
        dek.key,
        vaultBinding(workspaceId, domain, token, dek.originVersion),
        'string',
        value,
      );
      await scope.db
        .insertInto('token_vault')
        .values({
          workspace_id: workspaceId,
          domain,
          token,
          dek_id: dek.id,
          ciphertext,
          created_at: nowIso(),
        })
        .onConflict((oc) => oc.columns(['workspace_id', 'domain', 'token']).doNothing())
        .execute();
    });
    return token;
  }

  /**
   * The value behind a reversible token, for an actor holding `privacy.detokenize` on the domain. Every attempt
   * is audited (denied ones too). Throws PRIVACY_DETOKENIZE_DENIED, PRIVACY_TOKEN_INVALID, INPUT_INVALID, and the
   * keyring's errors (KEYS_VERSION_DESTROYED, KEYS_KEYRING_CORRUPT).
   */
  async detokenize(
    workspaceId: string,
    domain: string,
    token: string,
    opts: DetokenizeOptions,
  ): Promise<string> {
    checkTokenDomain(domain);
    const resource: ResourceRef = { kind: 'token-domain', id: `${workspaceId}/${domain}` };
    const purpose = checkPurpose(opts.purpose);
    const allowed = purpose !== '' && (await this.#authorize(opts.actor, 'privacy.detokenize', resource));
    const event = (outcome: 'success' | 'denied' | 'failure', details: Record<string, string>) =>
      this.#audit.record(workspaceId, {
        time: nowIso(),
        actor: opts.actor,
        action: 'privacy.token.detokenize',
        resource,
        outcome,
        ...(purpose === '' ? {} : { purpose }),
        details: { domain, ...details },
      });
    if (!allowed) {
      await event('denied', {
        reason: purpose === '' ? 'no purpose given' : 'permission privacy.detokenize missing',
      });
      throw new CustosError(
        'PRIVACY_DETOKENIZE_DENIED',
        'Detokenization needs the privacy.detokenize permission and a purpose',
        {
          details: { field: 'actor', rule: 'holds privacy.detokenize on the token domain; purpose given' },
        },
      );
    }
    const row =
      TOKEN.test(token) && token.startsWith(REVERSIBLE_PREFIX)
        ? await this.#store.db
            .selectFrom('token_vault')
            .select(['dek_id', 'ciphertext'])
            .where('workspace_id', '=', workspaceId)
            .where('domain', '=', domain)
            .where('token', '=', token)
            .executeTakeFirst()
        : undefined;
    if (!row) {
      await event('failure', { reason: 'unknown token' });
      throw new CustosError('PRIVACY_TOKEN_INVALID', 'Token is not a reversible token of this domain', {
        details: { field: 'token', rule: 'a reversible token issued in this domain' },
      });
    }
    const dek = await this.#keyring.unwrapDek(null, workspaceId, row.dek_id);
    const value = decryptField(
      dek.key,
      vaultBinding(workspaceId, domain, token, dek.originVersion),
      'string',
      row.ciphertext,
    );
    await event('success', {});
    return value as string;
  }
}

function vaultBinding(workspaceId: string, domain: string, token: string, keyVersion: number): FieldBinding {
  return {
    workspaceId,
    recordType: 'token-vault',
    recordId: `${domain}/${token}`,
    fieldPath: 'value',
    keyVersion,
  };
}
