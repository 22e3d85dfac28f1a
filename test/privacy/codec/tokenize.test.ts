import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DIALECTS } from '../../helpers/dialects.ts';
import { ADMIN, createWorkspaceRow, setupKeyring, type KeyringFixture } from '../../keys/setup.ts';
import { Tokenizer } from '../../../src/privacy/index.ts';
import type { Actor } from '../../../src/ledger/audit-sink.ts';
import { CustosError } from '../../../src/errors/index.ts';
import { ALLOW_ADMIN } from './setup.ts';

const OPERATOR: Actor = { kind: 'user', id: 'operator-7' };
const SECRET_VALUE = '078-05-1120';

for (const dialect of DIALECTS) {
  describe(`tokenization (${dialect})`, () => {
    let f: KeyringFixture | undefined;
    afterEach(async () => {
      await f?.cleanup();
      f = undefined;
    });

    it('deterministic tokens are stable across calls and instances, and differ across domains and workspaces', async () => {
      f = await setupKeyring(dialect);
      const fx = f;
      const a = new Tokenizer({ store: fx.t.store, keyring: fx.keyring, audit: fx.audit });
      const b = new Tokenizer({ store: fx.t.store, keyring: fx.keyring, audit: fx.audit });
      await createWorkspaceRow(fx.t, 'ws2');
      await fx.keyring.initWorkspace('ws2', ADMIN);
      await fc.assert(
        fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }), async (value) => {
          const t1 = await a.deterministic(fx.workspaceId, 'email', value);
          expect(t1).toMatch(/^dt1_[A-Za-z0-9_-]{22}$/);
          expect(await a.deterministic(fx.workspaceId, 'email', value)).toBe(t1);
          expect(await b.deterministic(fx.workspaceId, 'email', value)).toBe(t1);
          expect(await a.deterministic(fx.workspaceId, 'customer.email', value)).not.toBe(t1);
          expect(await a.deterministic('ws2', 'email', value)).not.toBe(t1);
        }),
        { numRuns: 50 },
      );
      expect(await a.deterministic(fx.workspaceId, 'email', 'x')).not.toBe(
        await a.deterministic(fx.workspaceId, 'email', 'y'),
      );
      await expect(a.deterministic(fx.workspaceId, 'Bad Domain', 'x')).rejects.toMatchObject({
        code: 'INPUT_INVALID',
      });
    });

    it('reversible tokens: same value, same token; detokenize needs the permission and a purpose, every attempt audited', async () => {
      f = await setupKeyring(dialect);
      const tok = new Tokenizer({
        store: f.t.store,
        keyring: f.keyring,
        audit: f.audit,
        authorize: ALLOW_ADMIN,
      });
      const token = await tok.tokenize(f.workspaceId, 'ssn', SECRET_VALUE);
      expect(token).toMatch(/^rt1_[A-Za-z0-9_-]{22}$/);
      expect(await tok.tokenize(f.workspaceId, 'ssn', SECRET_VALUE)).toBe(token);
      expect(await tok.tokenize(f.workspaceId, 'ssn-legacy', SECRET_VALUE)).not.toBe(token);
      const vault = await f.t.store.db.selectFrom('token_vault').selectAll().execute();
      expect(vault).toHaveLength(2);
      expect(JSON.stringify(vault)).not.toContain(SECRET_VALUE);

      const denied = await tok
        .detokenize(f.workspaceId, 'ssn', token, { actor: OPERATOR, purpose: 'curiosity' })
        .catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(CustosError);
      expect((denied as CustosError).code).toBe('PRIVACY_DETOKENIZE_DENIED');
      expect(f.audit.events.at(-1)).toEqual({
        ledger: f.workspaceId,
        event: expect.objectContaining({
          action: 'privacy.token.detokenize',
          outcome: 'denied',
          actor: OPERATOR,
          purpose: 'curiosity',
          resource: { kind: 'token-domain', id: `${f.workspaceId}/ssn` },
        }) as unknown,
      });
      await expect(
        tok.detokenize(f.workspaceId, 'ssn', token, { actor: ADMIN, purpose: ' ' }),
      ).rejects.toMatchObject({
        code: 'PRIVACY_DETOKENIZE_DENIED',
      });
      const noAuthorizer = new Tokenizer({ store: f.t.store, keyring: f.keyring, audit: f.audit });
      await expect(
        noAuthorizer.detokenize(f.workspaceId, 'ssn', token, { actor: ADMIN, purpose: 'x' }),
      ).rejects.toMatchObject({
        code: 'PRIVACY_DETOKENIZE_DENIED',
      });

      expect(
        await tok.detokenize(f.workspaceId, 'ssn', token, { actor: ADMIN, purpose: 'fraud case 7' }),
      ).toBe(SECRET_VALUE);
      expect(f.audit.events.at(-1)?.event).toMatchObject({ outcome: 'success', purpose: 'fraud case 7' });
      await expect(
        tok.detokenize(f.workspaceId, 'ssn-legacy', token, { actor: ADMIN, purpose: 'x' }),
      ).rejects.toMatchObject({
        code: 'PRIVACY_TOKEN_INVALID',
      });
      await expect(
        tok.detokenize(f.workspaceId, 'ssn', 'rt1_garbage', { actor: ADMIN, purpose: 'x' }),
      ).rejects.toMatchObject({
        code: 'PRIVACY_TOKEN_INVALID',
      });
      expect(JSON.stringify(f.audit.events)).not.toContain(SECRET_VALUE);
    });

    it('vault entries survive rotation, rewrap and destruction of the old version', async () => {
      f = await setupKeyring(dialect);
      const tok = new Tokenizer({
        store: f.t.store,
        keyring: f.keyring,
        audit: f.audit,
        authorize: ALLOW_ADMIN,
      });
      const token = await tok.tokenize(f.workspaceId, 'iban', 'GB82WEST12345698765432');
      await f.keyring.rotate(f.workspaceId, ADMIN);
      await f.keyring.rewrap(f.workspaceId, ADMIN);
      await f.keyring.destroyVersion(f.workspaceId, 1, ADMIN);
      expect(await tok.detokenize(f.workspaceId, 'iban', token, { actor: ADMIN, purpose: 'audit' })).toBe(
        'GB82WEST12345698765432',
      );
    });
  });
}
