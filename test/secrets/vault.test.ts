// The vault on SQLite and PostgreSQL: versions, scope, rotation schedules, resolution for a step,
// tampering, and bad input that persists nothing.
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.ts';
import { isCustosError } from '../../src/errors/index.ts';
import { clearSecrets, scrubSecrets } from '../../src/observe/index.ts';
import type { WriteSecretInput } from '../../src/secrets/index.ts';
import { ADMIN, ENGINE, setupVault, WS, type VaultFixture } from './setup.ts';

const VALUE_1 = 'sk_live_first_value_7f3a9c';
const VALUE_2 = 'sk_live_second_value_0b1d2e';
const DAY = 86_400_000;

const base = { workspace: WS, name: 'STRIPE_KEY', connector: 'stripe', actor: ADMIN } as const;
const step = {
  workspace: WS,
  name: 'STRIPE_KEY',
  connector: 'stripe',
  env: 'prod',
  runId: 'run-42',
  correlationId: 'corr-42',
  actor: ENGINE,
} as const;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return isCustosError(err) ? err.code : `untyped: ${String(err)}`;
  }
}

for (const dialect of DIALECTS) {
  describe(`secrets vault (${dialect})`, () => {
    let f: VaultFixture;
    beforeEach(async () => {
      clearSecrets();
      f = await setupVault(dialect);
    });
    afterEach(async () => {
      clearSecrets();
      await f.cleanup();
    });

    const rows = () => f.t.store.db.selectFrom('secret_versions').selectAll().orderBy('version').execute();

    it('stores a value sealed, returns and records metadata only', async () => {
      const meta = await f.vault.set({ ...base, value: VALUE_1 });
      expect(meta).toMatchObject({
        workspace: WS,
        name: 'STRIPE_KEY',
        connector: 'stripe',
        env: '*',
        version: 1,
        state: 'active',
        createdBy: 'user:admin-1',
      });
      expect(JSON.stringify(meta)).not.toContain(VALUE_1);
      const [row] = await rows();
      expect(Buffer.from(row!.ciphertext!).includes(Buffer.from(VALUE_1))).toBe(false);
      expect(row!.ciphertext![0]).toBe(1);
      const list = await f.vault.list(WS);
      expect(list).toEqual([meta]);
      expect(JSON.stringify(list)).not.toContain(VALUE_1);
      const secretEvents = f.audit.events.filter((e) => e.event.action.startsWith('secret.'));
      expect(secretEvents.map((e) => e.event.action)).toEqual(['secret.set']);
      expect(secretEvents[0]).toMatchObject({
        ledger: WS,
        event: { resource: { kind: 'secret', id: 'stripe/*/STRIPE_KEY' }, details: { version: 1 } },
      });
      expect(JSON.stringify(f.audit.events)).not.toContain(VALUE_1);
    });

    it('refuses a second set, rotates to a new version, and resolves the newest', async () => {
      await f.vault.set({ ...base, value: VALUE_1 });
      expect(await codeOf(f.vault.set({ ...base, value: VALUE_2 }))).toBe('SECRETS_EXISTS');
      const v2 = await f.vault.rotate({ ...base, value: VALUE_2 });
      expect(v2.version).toBe(2);
      const versions = await f.vault.versions(base);
      expect(versions.map((v) => [v.version, v.state])).toEqual([
        [1, 'retired'],
        [2, 'active'],
      ]);
      expect(versions[0]?.retiredAt).not.toBeNull();
      const value = await f.vault.resolveForStep(step);
      expect(value.reveal()).toBe(VALUE_2);
      expect(value.version).toBe(2);
    });

    it('hands a step a SecretValue that never prints, registered with the scrubber, on the ledger', async () => {
      await f.vault.set({ ...base, value: VALUE_1 });
      expect(scrubSecrets(`token=${VALUE_1}`)).toBe(`token=${VALUE_1}`);
      const value = await f.vault.resolveForStep(step);
      expect(String(value)).toBe('[secret]');
      // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- interpolation is the leak under test
      expect(`${value}`).toBe('[secret]');
      expect(JSON.stringify({ value })).toBe('{"value":"[secret]"}');
      expect(inspect(value)).toBe('[secret]');
      expect(inspect({ nested: { value } }, { depth: 5 })).not.toContain(VALUE_1);
      expect(Object.values(value).join()).not.toContain(VALUE_1);
      expect(structuredClone(value)).not.toHaveProperty('value');
      expect(value.reveal()).toBe(VALUE_1);
      expect(scrubSecrets(`token=${VALUE_1}; b64=${Buffer.from(VALUE_1).toString('base64')}`)).toBe(
        'token=[secret]; b64=[secret]',
      );
      const event = f.audit.events.find((e) => e.event.action === 'secret.resolve')?.event;
      expect(event).toMatchObject({
        actor: ENGINE,
        outcome: 'success',
        correlationId: 'corr-42',
        details: {
          name: 'STRIPE_KEY',
          connector: 'stripe',
          env: 'prod',
          scope: '*',
          version: 1,
          runId: 'run-42',
        },
      });
      expect(JSON.stringify(f.audit.events)).not.toContain(VALUE_1);
    });

    it('resolves only for the connector the secret is scoped to', async () => {
      await f.vault.set({ ...base, value: VALUE_1 });
      const err: unknown = await f.vault
        .resolveForStep({ ...step, connector: 'mailer' })
        .catch((e: unknown) => e);
      expect(isCustosError(err, 'SECRETS_SCOPE_DENIED')).toBe(true);
      expect(JSON.stringify(err)).not.toContain(VALUE_1);
      const denied = f.audit.events.at(-1)?.event;
      expect(denied).toMatchObject({
        action: 'secret.resolve',
        outcome: 'denied',
        correlationId: 'corr-42',
        details: { connector: 'mailer', reason: 'SECRETS_SCOPE_DENIED' },
      });
      expect(scrubSecrets(VALUE_1)).toBe(VALUE_1);
      expect(await codeOf(f.vault.resolveForStep({ ...step, name: 'OTHER_KEY' }))).toBe('SECRETS_NOT_FOUND');
      expect(f.audit.events.at(-1)?.event).toMatchObject({ outcome: 'failure' });
    });

    it('prefers an environment-specific secret over the all-environments one', async () => {
      await f.vault.set({ ...base, value: VALUE_1 });
      await f.vault.set({ ...base, env: 'prod', value: VALUE_2 });
      expect((await f.vault.resolveForStep(step)).reveal()).toBe(VALUE_2);
      expect((await f.vault.resolveForStep({ ...step, env: 'staging' })).reveal()).toBe(VALUE_1);
      await f.vault.set({ ...base, env: 'dev', connector: 'mailer', value: VALUE_2 });
      expect(await codeOf(f.vault.resolveForStep({ ...step, env: 'dev', connector: 'mailer' }))).toBe('ok');
      // The stripe-scoped `*` secret matches by name and environment: a mailer step is refused, not told "none".
      expect(await codeOf(f.vault.resolveForStep({ ...step, env: 'test', connector: 'mailer' }))).toBe(
        'SECRETS_SCOPE_DENIED',
      );
      await f.vault.set({ ...base, name: 'DEV_ONLY', env: 'dev', value: VALUE_2 });
      expect(await codeOf(f.vault.resolveForStep({ ...step, name: 'DEV_ONLY', env: 'test' }))).toBe(
        'SECRETS_NOT_FOUND',
      );
    });

    it('deletes by wiping every version; the name can be set again with a later version', async () => {
      await f.vault.set({ ...base, value: VALUE_1 });
      await f.vault.rotate({ ...base, value: VALUE_2 });
      expect(await f.vault.delete({ ...base })).toEqual({ versions: 2 });
      for (const r of await rows()) expect(r).toMatchObject({ state: 'deleted', ciphertext: null });
      expect(await codeOf(f.vault.resolveForStep(step))).toBe('SECRETS_NOT_FOUND');
      expect(await codeOf(f.vault.delete({ ...base }))).toBe('SECRETS_NOT_FOUND');
      expect(await codeOf(f.vault.rotate({ ...base, value: VALUE_1 }))).toBe('SECRETS_NOT_FOUND');
      expect(await f.vault.list(WS)).toEqual([]);
      expect((await f.vault.list(WS, { states: ['deleted'] })).length).toBe(2);
      expect((await f.vault.set({ ...base, value: VALUE_1 })).version).toBe(3);
      const writes = f.audit.events.filter(
        (e) => e.event.action.startsWith('secret.') && e.event.action !== 'secret.resolve',
      );
      expect(writes.map((e) => e.event.action)).toEqual([
        'secret.set',
        'secret.rotate',
        'secret.delete',
        'secret.set',
      ]);
    });

    it('reports secrets overdue for rotation; rotation and schedules move the due date', async () => {
      const t0 = f.clock.now.getTime();
      await f.vault.set({ ...base, value: VALUE_1, rotateEveryDays: 30 });
      await f.vault.set({ ...base, name: 'MAIL_KEY', connector: 'mailer', value: VALUE_2 });
      expect(await f.vault.overdue(WS, new Date(t0 + 29 * DAY))).toEqual([]);
      const late = await f.vault.overdue(WS, new Date(t0 + 33 * DAY));
      expect(late.map((o) => [o.name, o.daysOverdue])).toEqual([['STRIPE_KEY', 3]]);
      f.clock.now = new Date(t0 + 33 * DAY);
      const v2 = await f.vault.rotate({ ...base, value: VALUE_2 });
      expect(v2.rotateEveryDays).toBe(30);
      expect(v2.nextRotationAt).toBe(new Date(t0 + 63 * DAY).toISOString());
      expect(await f.vault.overdue(WS)).toEqual([]);
      await f.vault.schedule({
        workspace: WS,
        name: 'MAIL_KEY',
        connector: 'mailer',
        rotateEveryDays: 7,
        actor: ADMIN,
      });
      expect((await f.vault.overdue(WS)).map((o) => [o.name, o.daysOverdue])).toEqual([['MAIL_KEY', 26]]);
      const cleared = await f.vault.schedule({
        workspace: WS,
        name: 'MAIL_KEY',
        connector: 'mailer',
        rotateEveryDays: null,
        actor: ADMIN,
      });
      expect(cleared).toMatchObject({ rotateEveryDays: null, nextRotationAt: null });
      expect(await f.vault.overdue(WS)).toEqual([]);
    });

    it('detects a ciphertext moved to another secret or version', async () => {
      await f.vault.set({ ...base, value: VALUE_1 });
      await f.vault.set({ ...base, name: 'OTHER_KEY', value: VALUE_2 });
      const all = await rows();
      const source = all.find((r) => r.name === 'OTHER_KEY')!;
      await f.t.store.db
        .updateTable('secret_versions')
        .set({ ciphertext: source.ciphertext, dek_id: source.dek_id })
        .where('name', '=', 'STRIPE_KEY')
        .execute();
      expect(await codeOf(f.vault.resolveForStep(step))).toBe('SECRETS_CORRUPT');
      expect(scrubSecrets(VALUE_2)).toBe(VALUE_2);
    });

    it('rejects bad input with typed errors and persists nothing', async () => {
      const deks = async () => (await f.t.store.db.selectFrom('deks').select('id').execute()).length;
      const before = await deks();
      const bad: [Partial<WriteSecretInput>, string][] = [
        [{ name: 'lower_case' }, 'SECRETS_NAME_INVALID'],
        [{ name: '1ABC' }, 'SECRETS_NAME_INVALID'],
        [{ name: 'A'.repeat(65) }, 'SECRETS_NAME_INVALID'],
        [{ connector: 'Bad Connector' }, 'SECRETS_SCOPE_INVALID'],
        [{ env: 'Prod!' }, 'SECRETS_SCOPE_INVALID'],
        [{ workspace: 'NOPE' }, 'INPUT_INVALID'],
        [{ workspace: 'ghost' }, 'KEYS_WORKSPACE_UNKNOWN'],
        [{ value: '' }, 'SECRETS_VALUE_INVALID'],
        [{ value: 'short' }, 'SECRETS_VALUE_INVALID'],
        [{ value: 'x'.repeat(64 * 1024 + 1) }, 'SECRETS_VALUE_INVALID'],
        [{ value: Uint8Array.of(0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9) }, 'SECRETS_VALUE_INVALID'],
        [{ value: 'abcdef\ud800' }, 'SECRETS_VALUE_INVALID'],
        [{ rotateEveryDays: 0 }, 'SECRETS_SCHEDULE_INVALID'],
        [{ rotateEveryDays: 1.5 }, 'SECRETS_SCHEDULE_INVALID'],
        [{ rotateEveryDays: 4000 }, 'SECRETS_SCHEDULE_INVALID'],
      ];
      for (const [patch, code] of bad) {
        const err: unknown = await f.vault
          .set({ ...base, value: VALUE_1, ...patch })
          .catch((e: unknown) => e);
        expect(isCustosError(err) ? err.code : err, JSON.stringify(Object.keys(patch))).toBe(code);
        expect(JSON.stringify({ ...(err as object), message: (err as Error).message })).not.toContain(
          VALUE_1,
        );
      }
      expect(await f.vault.set({ ...base, value: 'x'.repeat(64 * 1024) })).toMatchObject({ version: 1 });
      await f.vault.delete({ ...base });
      expect((await rows()).filter((r) => r.state !== 'deleted')).toEqual([]);
      expect(await deks()).toBe(before + 1);
      expect(await codeOf(f.vault.resolveForStep({ ...step, env: '*' }))).toBe('SECRETS_SCOPE_INVALID');
      expect(await codeOf(f.vault.resolveForStep({ ...step, correlationId: '' }))).toBe('INPUT_INVALID');
      expect(await codeOf(f.vault.list(WS, { connector: 'BAD' }))).toBe('SECRETS_SCOPE_INVALID');
    });

    it('lets exactly one of two concurrent writers create a secret', async () => {
      const results = await Promise.all([
        codeOf(f.vault.set({ ...base, value: VALUE_1 })),
        codeOf(f.vault.set({ ...base, value: VALUE_2 })),
      ]);
      expect(results.sort()).toEqual(['SECRETS_EXISTS', 'ok']);
      const rotations = await Promise.all([
        codeOf(f.vault.rotate({ ...base, value: VALUE_1 })),
        codeOf(f.vault.rotate({ ...base, value: VALUE_2 })),
      ]);
      expect(rotations).toEqual(['ok', 'ok']);
      expect((await f.vault.versions(base)).map((v) => v.state)).toEqual(['retired', 'retired', 'active']);
    });
  });
}
