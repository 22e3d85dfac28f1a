import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.ts';
import { ADMIN, createWorkspaceRow, setupKeyring, type KeyringFixture } from './setup.ts';
import { open, seal } from '../../src/crypto/index.ts';
import { isCustosError } from '../../src/errors/index.ts';
import { Keyring } from '../../src/keys/index.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

for (const dialect of DIALECTS) {
  describe(`keyring lifecycle (${dialect})`, () => {
    let f: KeyringFixture | undefined;
    afterEach(async () => {
      await f?.cleanup();
      f = undefined;
    });

    it('initializes once: version 1 active, purpose secrets, an audit event', async () => {
      f = await setupKeyring(dialect);
      const [v1] = await f.keyring.list(f.workspaceId);
      expect(v1).toMatchObject({
        version: 1,
        state: 'active',
        wrapCount: 0,
        dekCount: 0,
        subjectKeyCount: 0,
      });
      await expect(f.keyring.initWorkspace(f.workspaceId, ADMIN)).rejects.toMatchObject({
        code: 'KEYS_WORKSPACE_EXISTS',
      });
      expect(f.audit.events.map((e) => e.event.action)).toEqual(['key.workspace.init']);
      const secrets = await f.t.store.db.selectFrom('workspace_secrets').select('purpose').execute();
      expect(secrets.map((s) => s.purpose).sort()).toEqual(['blind-index', 'ff1', 'subject', 'token']);
    });

    it('creates and unwraps DEKs, with and without a subject', async () => {
      f = await setupKeyring(dialect);
      const { keyring, workspaceId } = f;
      const deks = await keyring.transaction((s) =>
        keyring.createDeks(s, workspaceId, [null, 'subj-a', null, 'subj-a']),
      );
      expect(deks).toHaveLength(4);
      const box = seal(deks[1]!.key, Buffer.from('hello'), Buffer.alloc(0));
      const again = await keyring.unwrapDeks(
        null,
        workspaceId,
        deks.map((d) => d.id),
      );
      expect(open(again.get(deks[1]!.id)!.key, box, Buffer.alloc(0)).toString()).toBe('hello');
      const [v1] = await keyring.list(workspaceId);
      expect(v1).toMatchObject({ wrapCount: 3, dekCount: 2, subjectKeyCount: 1 });
    });

    it('rotates, rewraps and destroys', async () => {
      f = await setupKeyring(dialect);
      const { keyring, workspaceId } = f;
      const deks = await keyring.transaction((s) => keyring.createDeks(s, workspaceId, Array(25).fill(null)));
      await keyring.rotate(workspaceId, ADMIN);
      await expect(keyring.destroyVersion(workspaceId, 1, ADMIN)).rejects.toMatchObject({
        code: 'KEYS_VERSION_IN_USE',
        details: { dependants: 25 },
      });
      await expect(keyring.destroyVersion(workspaceId, 2, ADMIN)).rejects.toMatchObject({
        code: 'KEYS_VERSION_ACTIVE',
      });
      const r = await keyring.rewrap(workspaceId, ADMIN, { batchSize: 7 });
      expect(r).toMatchObject({ rewrapped: 25, remaining: 0, aborted: false, activeVersion: 2 });
      await keyring.destroyVersion(workspaceId, 1, ADMIN);
      const list = await keyring.list(workspaceId);
      expect(list.map((v) => [v.version, v.state, v.dekCount])).toEqual([
        [1, 'destroyed', 0],
        [2, 'active', 25],
      ]);
      const again = await keyring.unwrapDeks(
        null,
        workspaceId,
        deks.map((d) => d.id),
      );
      expect(again.size).toBe(25);
      const err: unknown = await keyring.destroyVersion(workspaceId, 1, ADMIN).catch((e: unknown) => e);
      expect(isCustosError(err, 'KEYS_VERSION_DESTROYED')).toBe(true);
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`keyring limits and invariants (${dialect})`, () => {
    let f: KeyringFixture | undefined;
    afterEach(async () => {
      await f?.cleanup();
      f = undefined;
    });

    it('rotates automatically when a version reaches rotateAfterWraps, reporting it only after commit', async () => {
      f = await setupKeyring(dialect, { rotateAfterWraps: 5 });
      const { keyring, workspaceId } = f;
      await expect(
        keyring.transaction(async (s) => {
          await keyring.createDeks(s, workspaceId, Array<null>(12).fill(null));
          throw new Error('caller failed');
        }),
      ).rejects.toThrow('caller failed');
      expect((await keyring.list(workspaceId)).map((v) => [v.version, v.state, v.wrapCount])).toEqual([
        [1, 'active', 0],
      ]);
      expect(f.audit.events.filter((e) => e.event.action === 'key.kek.rotate')).toEqual([]);

      const deks = await keyring.transaction((s) =>
        keyring.createDeks(s, workspaceId, Array<null>(12).fill(null)),
      );
      expect(
        (await keyring.list(workspaceId)).map((v) => [v.version, v.state, v.wrapCount, v.dekCount]),
      ).toEqual([
        [1, 'decrypt_only', 5, 5],
        [2, 'decrypt_only', 5, 5],
        [3, 'active', 2, 2],
      ]);
      expect(deks.map((d) => d.originVersion)).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3]);
      const rotations = f.audit.events.filter((e) => e.event.action === 'key.kek.rotate').map((e) => e.event);
      expect(rotations.map((e) => [e.actor.id, e.details])).toEqual([
        ['keyring', { previous: 1, version: 2, previousWrapCount: 5, trigger: 'wrap-limit' }],
        ['keyring', { previous: 2, version: 3, previousWrapCount: 5, trigger: 'wrap-limit' }],
      ]);
      // Rewrap counts too: moving 10 keys onto v3 (2 used) rotates again.
      const r = await keyring.rewrap(workspaceId, ADMIN, { batchSize: 4 });
      expect(r.remaining).toBe(0);
      const after = await keyring.list(workspaceId);
      expect(after.every((v) => v.wrapCount <= 5)).toBe(true);
      expect(after.filter((v) => v.state === 'active')).toHaveLength(1);
      expect(
        (
          await keyring.unwrapDeks(
            null,
            workspaceId,
            deks.map((d) => d.id),
          )
        ).size,
      ).toBe(12);
    });

    it('refuses a rotateAfterWraps at or above the GCM random-nonce limit', async () => {
      f = await setupKeyring(dialect);
      const { t, root, audit } = f;
      expect(() => new Keyring({ store: t.store, root, audit, rotateAfterWraps: 2 ** 32 })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    });

    it('shreds one subject without touching another, idempotently', async () => {
      f = await setupKeyring(dialect);
      const { keyring, workspaceId } = f;
      const [a, b] = await keyring.transaction((s) =>
        keyring.createDeks(s, workspaceId, ['subj-a', 'subj-b']),
      );
      expect(await keyring.shredSubject(workspaceId, 'subj-a', ADMIN)).toEqual({ dekCount: 1 });
      await expect(keyring.unwrapDek(null, workspaceId, a!.id)).rejects.toMatchObject({
        code: 'KEYS_SUBJECT_SHREDDED',
      });
      await expect(keyring.unwrapDek(null, workspaceId, b!.id)).resolves.toMatchObject({
        subjectId: 'subj-b',
      });
      await expect(
        keyring.transaction((s) => keyring.createDeks(s, workspaceId, ['subj-a'])),
      ).rejects.toMatchObject({
        code: 'KEYS_SUBJECT_SHREDDED',
      });
      expect(await keyring.shredSubject(workspaceId, 'subj-a', ADMIN)).toEqual({ dekCount: 1 });
      await expect(keyring.shredSubject(workspaceId, 'nobody', ADMIN)).rejects.toMatchObject({
        code: 'KEYS_SUBJECT_UNKNOWN',
      });
      const row = await f.t.store.db
        .selectFrom('subject_keys')
        .selectAll()
        .where('subject_id', '=', 'subj-a')
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ wrapped: null, kek_version: null });
      expect(
        f.audit.events.filter((e) => e.event.action === 'key.subject.shred').map((e) => e.event.details),
      ).toEqual([
        { dekCount: 1, alreadyShredded: false },
        { dekCount: 1, alreadyShredded: true },
      ]);
    });

    it('names unknown workspaces, versions and DEKs', async () => {
      f = await setupKeyring(dialect, { init: false });
      const { keyring } = f;
      await expect(keyring.list('ws1')).rejects.toMatchObject({ code: 'KEYS_WORKSPACE_UNKNOWN' });
      await expect(keyring.rotate('ws1', ADMIN)).rejects.toMatchObject({ code: 'KEYS_WORKSPACE_UNKNOWN' });
      await expect(keyring.initWorkspace('missing', ADMIN)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await keyring.initWorkspace('ws1', ADMIN);
      await expect(keyring.destroyVersion('ws1', 9, ADMIN)).rejects.toMatchObject({
        code: 'KEYS_VERSION_UNKNOWN',
      });
      await expect(keyring.unwrapDek(null, 'ws1', 'dek_nope')).rejects.toMatchObject({
        code: 'KEYS_DEK_UNKNOWN',
      });
      // A DEK of another workspace is unknown here, even when asked for by its id.
      await createWorkspaceRow(f.t, 'ws2');
      await keyring.initWorkspace('ws2', ADMIN);
      const [other] = await keyring.transaction((s) => keyring.createDeks(s, 'ws2', [null]));
      const otherId = other?.id ?? '';
      expect((await keyring.unwrapDek(null, 'ws2', otherId)).id).toBe(otherId);
      await expect(keyring.unwrapDek(null, 'ws1', otherId)).rejects.toMatchObject({
        code: 'KEYS_DEK_UNKNOWN',
      });
      const refused = f.audit.events.filter((e) => e.event.outcome === 'failure').map((e) => e.event.details);
      expect(refused).toEqual([{ version: 9, refused: 'KEYS_VERSION_UNKNOWN' }]);
    });

    it('keeps the root key out of the database, DEKs only wrapped, and key material out of audit events', async () => {
      f = await setupKeyring(dialect);
      const { keyring, workspaceId } = f;
      const deks = await keyring.transaction((s) => keyring.createDeks(s, workspaceId, [null, null, 'subj']));
      await keyring.rotate(workspaceId, ADMIN);
      await keyring.rewrap(workspaceId, ADMIN);
      await keyring.destroyVersion(workspaceId, 1, ADMIN);
      const rootLine = readFileSync(join(f.dir, 'root.key'), 'utf8').split('\n')[1]!;
      const rootKey = Buffer.from(rootLine.split(':')[1]!, 'base64url');
      const db = f.t.store.db;
      const blobs: Buffer[] = [];
      for (const r of await db.selectFrom('kek_versions').select('wrapped').execute())
        if (r.wrapped) blobs.push(Buffer.from(r.wrapped));
      for (const r of await db.selectFrom('workspace_secrets').select('wrapped').execute())
        blobs.push(Buffer.from(r.wrapped));
      for (const r of await db.selectFrom('deks').select('wrapped').execute())
        blobs.push(Buffer.from(r.wrapped));
      for (const r of await db.selectFrom('subject_keys').select('wrapped').execute())
        if (r.wrapped) blobs.push(Buffer.from(r.wrapped));
      const rawDeks = deks.map((d) => d.key.export());
      for (const blob of blobs) {
        expect(blob.includes(rootKey)).toBe(false);
        for (const raw of rawDeks) expect(blob.includes(raw)).toBe(false);
      }
      const audit = JSON.stringify(f.audit.events);
      for (const secret of [rootKey, ...rawDeks, ...blobs]) {
        expect(audit).not.toContain(secret.toString('hex'));
        expect(audit).not.toContain(secret.toString('base64'));
        expect(audit).not.toContain(secret.toString('base64url'));
      }
      expect(f.audit.events.map((e) => e.event.action)).toEqual([
        'key.workspace.init',
        'key.kek.rotate',
        'key.kek.rewrap',
        'key.kek.destroy',
      ]);
      expect(f.audit.events.every((e) => e.ledger === workspaceId)).toBe(true);
    });
  });
}

describe('rewrap options', () => {
  it('refuses batch sizes SQLite cannot bind and bad worker counts', async () => {
    const f = await setupKeyring('sqlite');
    try {
      await expect(f.keyring.rewrap(f.workspaceId, ADMIN, { batchSize: 8001 })).rejects.toMatchObject({
        code: 'INPUT_INVALID',
      });
      await expect(f.keyring.rewrap(f.workspaceId, ADMIN, { workers: -1 })).rejects.toMatchObject({
        code: 'INPUT_INVALID',
      });
      expect(await f.keyring.rewrap(f.workspaceId, ADMIN, { batchSize: 8000 })).toMatchObject({
        rewrapped: 0,
        remaining: 0,
      });
    } finally {
      await f.cleanup();
    }
  });
});
