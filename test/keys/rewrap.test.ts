import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.ts';
import { ADMIN, setupKeyring, type KeyringFixture } from './setup.ts';
import { parseDataSchema, RecordStore } from '../../src/privacy/index.ts';
import type { RewrapProgress } from '../../src/keys/index.ts';

const note = parseDataSchema(
  'type: note\nfields:\n  body: {classification: confidential, category: free_text}\n',
);
const person = parseDataSchema(
  'type: person\nsubject: email\nfields:\n  email: {classification: confidential, category: email}\n',
);
const allow = () => true;

async function seed(f: KeyringFixture, n: number): Promise<RecordStore> {
  const records = new RecordStore({ store: f.t.store, keyring: f.keyring, audit: f.audit, authorize: allow });
  const notes = Array.from({ length: n }, (_, i) => JSON.stringify({ id: `n-${i}`, body: `note ${i}` })).join(
    '\n',
  );
  const people = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ id: `p-${i}`, email: `p${i}@example.org` }),
  ).join('\n');
  await records.importNdjson(f.workspaceId, note, notes, ADMIN);
  await records.importNdjson(f.workspaceId, person, people, ADMIN);
  return records;
}

async function snapshot(f: KeyringFixture): Promise<string> {
  const rows = await f.t.store.db
    .selectFrom('records')
    .select(['type', 'id', 'data'])
    .orderBy('type')
    .orderBy('id')
    .execute();
  return JSON.stringify(rows);
}

async function versionsOf(f: KeyringFixture): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['deks', 'subject_keys'] as const) {
    const rows = await f.t.store.db
      .selectFrom(table)
      .select('kek_version')
      .where('kek_version', 'is not', null)
      .execute();
    for (const r of rows) out[`${table}@${r.kek_version}`] = (out[`${table}@${r.kek_version}`] ?? 0) + 1;
  }
  return out;
}

for (const dialect of DIALECTS) {
  describe(`rewrap (${dialect})`, () => {
    let f: KeyringFixture | undefined;
    afterEach(async () => {
      await f?.cleanup();
      f = undefined;
    });

    it('is resumable: aborted mid-way, resumed, every key ends on the active version, field ciphertext untouched', async () => {
      f = await setupKeyring(dialect);
      const records = await seed(f, 40);
      const before = await snapshot(f);
      expect(await versionsOf(f)).toEqual({ 'deks@1': 40, 'subject_keys@1': 40 });
      await f.keyring.rotate(f.workspaceId, ADMIN);

      const controller = new AbortController();
      const progress: RewrapProgress[] = [];
      const first = await f.keyring.rewrap(f.workspaceId, ADMIN, {
        batchSize: 7,
        signal: controller.signal,
        onProgress: (p) => {
          progress.push(p);
          if (p.rewrapped >= 21) controller.abort();
        },
      });
      expect(first.aborted).toBe(true);
      expect(first.rewrapped).toBeGreaterThanOrEqual(21);
      expect(first.rewrapped + first.remaining).toBe(80);
      expect(first.remaining).toBeGreaterThan(0);
      expect(progress.map((p) => p.rewrapped)).toEqual(
        [...progress.map((p) => p.rewrapped)].sort((a, b) => a - b),
      );
      const destroy = f.keyring.destroyVersion(f.workspaceId, 1, ADMIN);
      await expect(destroy).rejects.toMatchObject({
        code: 'KEYS_VERSION_IN_USE',
        details: { dependants: first.remaining },
      });
      // Half-way: every record still reads, whichever version wraps its key.
      expect(
        (await records.get(f.workspaceId, 'note', 'n-39', { reveal: true, actor: ADMIN, purpose: 't' }))
          .fields,
      ).toEqual({ body: 'note 39' });

      const second = await f.keyring.rewrap(f.workspaceId, ADMIN, { batchSize: 7 });
      expect(second).toMatchObject({ aborted: false, remaining: 0, activeVersion: 2 });
      expect(first.rewrapped + second.rewrapped).toBe(80);
      expect(await versionsOf(f)).toEqual({ 'deks@2': 40, 'subject_keys@2': 40 });
      expect(await snapshot(f)).toBe(before);
      await f.keyring.destroyVersion(f.workspaceId, 1, ADMIN);
      const v1 = await f.t.store.db
        .selectFrom('kek_versions')
        .selectAll()
        .where('version', '=', 1)
        .executeTakeFirstOrThrow();
      expect(v1).toMatchObject({ state: 'destroyed', wrapped: null });
      for (const id of ['n-0', 'n-20']) {
        expect(
          (await records.get(f.workspaceId, 'note', id, { reveal: true, actor: ADMIN, purpose: 't' })).fields
            .body,
        ).toBe(`note ${id.slice(2)}`);
      }
      expect(
        (await records.get(f.workspaceId, 'person', 'p-7', { reveal: true, actor: ADMIN, purpose: 't' }))
          .fields.email,
      ).toBe('p7@example.org');
      const rewrapEvents = f.audit.events
        .filter((e) => e.event.action === 'key.kek.rewrap')
        .map((e) => e.event.details);
      expect(rewrapEvents).toEqual([
        { rewrapped: first.rewrapped, remaining: first.remaining, aborted: true },
        { rewrapped: second.rewrapped, remaining: 0, aborted: false },
      ]);
    });

    it('runs the crypto on worker threads too, with the same result', async () => {
      f = await setupKeyring(dialect);
      const records = await seed(f, 30);
      const before = await snapshot(f);
      await f.keyring.rotate(f.workspaceId, ADMIN);
      const r = await f.keyring.rewrap(f.workspaceId, ADMIN, { batchSize: 8, workers: 2 });
      expect(r).toMatchObject({ rewrapped: 60, remaining: 0, aborted: false });
      expect(await versionsOf(f)).toEqual({ 'deks@2': 30, 'subject_keys@2': 30 });
      expect(await snapshot(f)).toBe(before);
      expect(
        (await records.get(f.workspaceId, 'note', 'n-29', { reveal: true, actor: ADMIN, purpose: 't' }))
          .fields.body,
      ).toBe('note 29');
    });

    it('shares a batch between a worker and this thread, across wrap-limit rotations inside it', async () => {
      f = await setupKeyring(dialect, { rotateAfterWraps: 170 });
      const records = await seed(f, 300);
      const before = await snapshot(f);
      await f.keyring.rotate(f.workspaceId, ADMIN);
      const r = await f.keyring.rewrap(f.workspaceId, ADMIN, { batchSize: 600, workers: 1 });
      expect(r).toMatchObject({ rewrapped: 600, remaining: 0, aborted: false });
      const counts = await f.t.store.db
        .selectFrom('kek_versions')
        .select(['version', 'wrap_count'])
        .where('workspace_id', '=', f.workspaceId)
        .execute();
      for (const c of counts) expect(c.wrap_count).toBeLessThanOrEqual(170);
      expect(await snapshot(f)).toBe(before);
      for (const i of [0, 127, 128, 169, 170, 299]) {
        expect(
          (await records.get(f.workspaceId, 'note', `n-${i}`, { reveal: true, actor: ADMIN, purpose: 't' }))
            .fields.body,
        ).toBe(`note ${i}`);
      }
    });

    it('names a wrapped key that does not verify on a worker thread too', async () => {
      f = await setupKeyring(dialect);
      await seed(f, 300);
      await f.keyring.rotate(f.workspaceId, ADMIN);
      const victim = await f.t.store.db
        .selectFrom('deks')
        .select(['id', 'wrapped'])
        .where('kek_version', '=', 1)
        .orderBy('id')
        .offset(200)
        .limit(1)
        .executeTakeFirstOrThrow();
      const bad = Buffer.from(victim.wrapped);
      bad[20]! ^= 1;
      await f.t.store.db.updateTable('deks').set({ wrapped: bad }).where('id', '=', victim.id).execute();
      await expect(
        f.keyring.rewrap(f.workspaceId, ADMIN, { batchSize: 300, workers: 1 }),
      ).rejects.toMatchObject({
        code: 'KEYS_KEYRING_CORRUPT',
        details: { field: 'deks', id: victim.id },
      });
    });

    it('names a wrapped key that does not verify, keeping the batches already done', async () => {
      f = await setupKeyring(dialect);
      await seed(f, 10);
      await f.keyring.rotate(f.workspaceId, ADMIN);
      const victim = await f.t.store.db
        .selectFrom('deks')
        .select(['id', 'wrapped'])
        .where('kek_version', '=', 1)
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      const bad = Buffer.from(victim.wrapped);
      bad[20]! ^= 1;
      await f.t.store.db.updateTable('deks').set({ wrapped: bad }).where('id', '=', victim.id).execute();
      await expect(f.keyring.rewrap(f.workspaceId, ADMIN, { batchSize: 3 })).rejects.toMatchObject({
        code: 'KEYS_KEYRING_CORRUPT',
        details: { field: 'deks', id: victim.id },
      });
      const moved = await versionsOf(f);
      expect(moved['subject_keys@2']).toBe(10);
      expect(moved['deks@2']).toBeGreaterThan(0);
    });
  });
}
