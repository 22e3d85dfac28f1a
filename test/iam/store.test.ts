// IAM state on both dialects: users, grants with connector binding and expiry, token owners,
// sessions and revocation, throttling, elevation approve/expire and access-review revocation
// (all or nothing), TOTP secrets sealed at rest.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessReview,
  activeGrantsOf,
  addGrant,
  base32Decode,
  confirmTotp,
  createApiToken,
  createSession,
  createUser,
  createWorkspace,
  decideElevation,
  DEFAULT_IAM_SETTINGS,
  enrollTotp,
  expireElevations,
  principalFromSession,
  principalFromToken,
  requestElevation,
  revokeAccess,
  revokeUserSessions,
  setUserStatus,
  signInWithPassword,
  syncManagedGrants,
  totp,
  type IamContext,
  type ManagedGrant,
} from '../../src/iam/index.ts';
import { createLocalRootKeyFile } from '../../src/keys/index.ts';
import { MemoryAuditSink } from '../../src/ledger/index.ts';
import { createTestStore, DIALECTS, type TestStore } from '../helpers/dialects.ts';

const ACTOR = { kind: 'local-operator' as const, id: 'test' };
const PASSWORD = 'a long and unusual passphrase';

for (const dialect of DIALECTS) {
  describe(`IAM store (${dialect})`, () => {
    let t: TestStore;
    let ctx: IamContext;
    let offset = 0;
    const audit = new MemoryAuditSink();
    const dir = mkdtempSync(join(tmpdir(), 'custos-iam-'));

    beforeAll(async () => {
      t = await createTestStore(dialect);
      const root = await createLocalRootKeyFile(join(dir, 'root.key'));
      ctx = {
        store: t.store,
        root,
        audit,
        clock: () => new Date(Date.now() + offset),
        settings: {
          ...DEFAULT_IAM_SETTINGS,
          password: { memoryKiB: 1024, passes: 1, parallelism: 1 },
          lockoutThreshold: 2,
        },
      };
      await createWorkspace(t.store.db, 'default');
      await createWorkspace(t.store.db, 'other');
    });
    afterAll(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('resolves token principals to no more than their owner holds now', async () => {
      const ada = await createUser(ctx, { email: 'Ada@Example.test', password: PASSWORD, actor: ACTOR });
      expect(ada.email).toBe('ada@example.test');
      await expect(createUser(ctx, { email: 'ada@example.test', actor: ACTOR })).rejects.toMatchObject({
        code: 'IAM_USER_EXISTS',
      });
      await addGrant(ctx, { userId: ada.id, workspace: 'default', role: 'builder', actor: ACTOR });
      await addGrant(ctx, {
        userId: ada.id,
        workspace: 'default',
        role: 'admin',
        connector: 'crm',
        actor: ACTOR,
      });
      const session = await createSession(ctx, { userId: ada.id, stage: 'active', authMethod: 'password' });
      const caller = await principalFromSession(ctx, session.cookie);
      expect(caller.grants.map((g) => `${g.role}@${g.connector}`).sort()).toEqual(['admin@crm', 'builder@*']);
      expect(caller.mfaRequired).toBe(true);
      const { token } = await createApiToken(ctx, {
        caller,
        workspace: 'default',
        roles: ['builder'],
        label: 'cli',
      });
      await expect(
        createApiToken(ctx, { caller, workspace: 'default', roles: ['operator'], label: 'x' }),
      ).rejects.toMatchObject({
        code: 'IAM_GRANT_EXCEEDS_CALLER',
      });
      const viaToken = await principalFromToken(ctx, token);
      expect(viaToken.grants.map((g) => g.role)).toEqual(['builder']);
      await setUserStatus(ctx, ada.id, 'disabled', ACTOR);
      await expect(principalFromToken(ctx, token)).rejects.toMatchObject({ code: 'IAM_TOKEN_INVALID' });
      await expect(principalFromSession(ctx, session.cookie)).rejects.toMatchObject({
        code: 'IAM_SESSION_INVALID',
      });
      await setUserStatus(ctx, ada.id, 'active', ACTOR);
      expect(await revokeUserSessions(ctx, ada.id)).toBe(0);
    });

    it('keeps single sign-on grants in line with the groups, leaving grants made by hand alone', async () => {
      const sso = await createUser(ctx, { email: 'sso@example.test', actor: ACTOR });
      const live = async (): Promise<string[]> =>
        (await activeGrantsOf(ctx, sso.id))
          .map((g) => `${g.workspace}/${g.role}/${g.connector}/${g.managedBy ?? 'hand'}`)
          .sort();
      const sync = (desired: ManagedGrant[]) =>
        syncManagedGrants(ctx, { userId: sso.id, managedBy: 'oidc:corp', desired });
      await addGrant(ctx, { userId: sso.id, workspace: 'default', role: 'builder', actor: ACTOR });
      const first = await sync([
        { workspace: 'default', role: 'builder', connector: '*' },
        { workspace: 'default', role: 'reviewer', connector: '*' },
        { workspace: 'other', role: 'operator', connector: 'crm' },
      ]);
      expect(first.added).toHaveLength(2);
      expect(await live()).toEqual([
        'default/builder/*/hand',
        'default/reviewer/*/oidc:corp',
        'other/operator/crm/oidc:corp',
      ]);
      // Another provider's grants and hand-made ones survive this provider's sync.
      await syncManagedGrants(ctx, {
        userId: sso.id,
        managedBy: 'oidc:other',
        desired: [{ workspace: 'other', role: 'auditor', connector: '*' }],
      });
      const second = await sync([{ workspace: 'default', role: 'reviewer', connector: '*' }]);
      expect(second.added).toEqual([]);
      expect(second.revoked.map((g) => g.role)).toEqual(['operator']);
      expect(await live()).toEqual([
        'default/builder/*/hand',
        'default/reviewer/*/oidc:corp',
        'other/auditor/*/oidc:other',
      ]);
      // An admin granting the same role by hand takes the grant over: the provider no longer revokes it.
      await addGrant(ctx, { userId: sso.id, workspace: 'default', role: 'reviewer', actor: ACTOR });
      await sync([]);
      expect(await live()).toEqual([
        'default/builder/*/hand',
        'default/reviewer/*/hand',
        'other/auditor/*/oidc:other',
      ]);
      const events = audit.events.filter(
        (e) => e.event.resource.kind === 'grant' && e.event.actor.id === 'oidc:corp',
      );
      expect(events.map((e) => e.event.action)).toEqual([
        'iam.grant.create',
        'iam.grant.create',
        'iam.grant.revoke',
      ]);
    });

    // Only PostgreSQL runs two writers at once (SQLite's single writer makes a second sign-in wait
    // for the first to commit, and then see its grant), so only there can a sync run into a racer.
    if (dialect === 'postgres') {
      it('adds a grant once when another sign-in adds it after this one read the live grants', async () => {
        const sso = await createUser(ctx, { email: 'racer@example.test', actor: ACTOR });
        const racer = await t.reopen();
        try {
          let commit: () => void = () => undefined;
          const committed = new Promise<void>((resolve) => (commit = resolve));
          let inserted: () => void = () => undefined;
          const rowWritten = new Promise<void>((resolve) => (inserted = resolve));
          const other = racer.db.transaction().execute(async (trx) => {
            await trx
              .insertInto('role_grants')
              .values({
                id: 'grt_racer000000000',
                user_id: sso.id,
                workspace_id: 'other',
                role: 'builder',
                connector: '*',
                source: 'standing',
                elevation_id: null,
                created_by: 'oidc:corp',
                created_at: new Date().toISOString(),
                expires_at: null,
                last_used_at: null,
                revoked_at: null,
                revoked_by: null,
                managed_by: 'oidc:corp',
              })
              .execute();
            inserted();
            await committed;
          });
          await rowWritten;
          // The sync reads no live grant (the racer has not committed) and waits on the index.
          const mine = syncManagedGrants(ctx, {
            userId: sso.id,
            managedBy: 'oidc:corp',
            desired: [{ workspace: 'other', role: 'builder', connector: '*' }],
          });
          await new Promise((resolve) => setTimeout(resolve, 200));
          commit();
          await other;
          expect((await mine).added).toEqual([]);
        } finally {
          await racer.close();
        }
        const held = (await activeGrantsOf(ctx, sso.id)).map(
          (g) => `${g.workspace}/${g.role}/${g.managedBy ?? 'hand'}`,
        );
        expect(held).toEqual(['other/builder/oidc:corp']);
      });
    }

    it('locks sign-in per identifier and seals TOTP secrets', async () => {
      await expect(
        signInWithPassword(ctx, { email: 'ada@example.test', password: 'wrong one entirely' }),
      ).rejects.toMatchObject({
        code: 'IAM_CREDENTIALS_INVALID',
      });
      await expect(
        signInWithPassword(ctx, { email: 'ada@example.test', password: 'wrong one entirely' }),
      ).rejects.toMatchObject({
        code: 'IAM_CREDENTIALS_INVALID',
      });
      await expect(
        signInWithPassword(ctx, { email: 'ada@example.test', password: PASSWORD }),
      ).rejects.toMatchObject({
        code: 'IAM_SIGN_IN_LOCKED',
      });
      offset += 16 * 60_000;
      const signed = await signInWithPassword(ctx, { email: 'ada@example.test', password: PASSWORD });
      expect(signed.stage).toBe('enroll');
      const { secret } = await enrollTotp(ctx, signed.user);
      const row = await t.store.db.selectFrom('totp_factors').select('sealed').executeTakeFirst();
      expect(Buffer.from(row?.sealed ?? []).includes(base32Decode(secret) ?? Buffer.alloc(1))).toBe(false);
      await confirmTotp(
        ctx,
        signed.user.id,
        totp(base32Decode(secret) ?? Buffer.alloc(0), Math.floor(ctx.clock().getTime() / 1000)),
      );
      expect((await signInWithPassword(ctx, { email: 'ada@example.test', password: PASSWORD })).stage).toBe(
        'mfa',
      );
    });

    it('approves elevation into an expiring grant and revokes reviewed access all or nothing', async () => {
      const op = await createUser(ctx, { email: 'op@example.test', password: PASSWORD, actor: ACTOR });
      const boss = await createUser(ctx, { email: 'boss@example.test', password: PASSWORD, actor: ACTOR });
      const grant = await addGrant(ctx, {
        userId: op.id,
        workspace: 'default',
        role: 'operator',
        actor: ACTOR,
      });
      const asked = await requestElevation(ctx, {
        actor: { kind: 'user', id: op.id },
        workspace: 'default',
        role: 'admin',
        duration: '30m',
        reason: 'restore a backup',
      });
      await expect(
        decideElevation(ctx, {
          workspace: 'default',
          id: asked.id,
          approve: true,
          actor: { kind: 'user', id: op.id },
        }),
      ).rejects.toMatchObject({
        code: 'IAM_ELEVATION_SELF_APPROVAL',
      });
      const approved = await decideElevation(ctx, {
        workspace: 'default',
        id: asked.id,
        approve: true,
        actor: { kind: 'user', id: boss.id },
      });
      expect(approved.state).toBe('approved');
      const session = await createSession(ctx, { userId: op.id, stage: 'active', authMethod: 'password' });
      expect((await principalFromSession(ctx, session.cookie)).grants.map((g) => g.role).sort()).toEqual([
        'admin',
        'operator',
      ]);
      offset += 31 * 60_000;
      expect(await expireElevations(ctx)).toBe(1);
      const later = await createSession(ctx, { userId: op.id, stage: 'active', authMethod: 'password' });
      expect((await principalFromSession(ctx, later.cookie)).grants.map((g) => g.role)).toEqual(['operator']);
      expect(audit.events.map((e) => e.event.action)).toEqual(
        expect.arrayContaining(['iam.elevation.request', 'iam.elevation.approve', 'iam.elevation.expire']),
      );

      offset += 40 * 86_400_000;
      const review = await accessReview(ctx, 'default', 30);
      expect(review.grants.map((g) => g.id)).toContain(grant.id);
      await expect(
        revokeAccess(ctx, {
          workspace: 'default',
          grantIds: [grant.id, 'grt_0000000000000000'],
          tokenIds: [],
          actor: ACTOR,
        }),
      ).rejects.toMatchObject({ code: 'IAM_GRANT_NOT_FOUND', details: { field: 'grantIds/1' } });
      expect((await accessReview(ctx, 'default', 30)).grants.map((g) => g.id)).toContain(grant.id);
      const done = await revokeAccess(ctx, {
        workspace: 'default',
        grantIds: review.grants.map((g) => g.id),
        tokenIds: review.tokens.map((x) => x.id),
        actor: ACTOR,
      });
      expect(done.grants).toBe(review.grants.length);
      expect((await accessReview(ctx, 'default', 30)).grants).toEqual([]);
    });
  });
}
