import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../helpers/dialects.ts';
import { ADMIN, createWorkspaceRow } from '../../keys/setup.ts';
import { RecordStore, type RecordView } from '../../../src/privacy/index.ts';
import { Keyring, openLocalRootKeyFile } from '../../../src/keys/index.ts';
import { MemoryAuditSink, type Actor } from '../../../src/ledger/audit-sink.ts';
import { CustosError } from '../../../src/errors/index.ts';
import { join } from 'node:path';
import { employee, SEEDED, seededStrings, seedLines, setupRecordStore, type StoreFixture } from './setup.ts';

const OPERATOR: Actor = { kind: 'user', id: 'operator-7' };
const reveal = { reveal: true, actor: ADMIN, purpose: 'ticket 42' } as const;

async function counts(f: StoreFixture): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['records', 'deks', 'blind_index', 'subject_keys', 'data_schemas'] as const) {
    const row = await f.t.store.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = row.n;
  }
  const kek = await f.t.store.db.selectFrom('kek_versions').select(['version', 'wrap_count']).execute();
  out.wraps = kek.reduce((n, r) => n + r.wrap_count, 0);
  out.versions = kek.length;
  return out;
}

async function failure(p: Promise<unknown>): Promise<CustosError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CustosError) return err;
    throw err;
  }
  throw new Error('expected a CustosError');
}

for (const dialect of DIALECTS) {
  describe(`record store (${dialect})`, () => {
    let f: StoreFixture | undefined;
    afterEach(async () => {
      await f?.cleanup();
      f = undefined;
    });

    it('imports in one transaction and reveals exactly what was imported, typed', async () => {
      f = await setupRecordStore(dialect);
      const result = await f.records.importNdjson(f.workspaceId, employee, seedLines(), ADMIN);
      expect(result).toEqual({ type: 'employee', imported: 3, schemaDigest: employee.digest });
      const view = await f.records.get(f.workspaceId, 'employee', 'e-2', reveal);
      expect(view.revealed).toBe(true);
      expect(view.fields).toEqual({
        email: 'grace.hopper@example.org',
        name: 'Grace Hopper',
        phone: '+1 212 555 0147',
        dept: 'R&D',
        salary: 98765.5,
        born: '1920-12-11',
        active: false,
        address: { city: 'Arlington', zip: '01123' },
      });
      expect(view.subjectId).toMatch(/^sub_[0-9a-f]{32}$/);
      const stored = await f.t.store.db
        .selectFrom('records')
        .select('data')
        .where('id', '=', 'e-2')
        .executeTakeFirstOrThrow();
      for (const s of seededStrings()) expect(stored.data).not.toContain(s);
      expect(JSON.parse(stored.data)).toMatchObject({
        dept: 'R&D',
        active: false,
        address: { zip: '01123' },
      });
    });

    it('masks for readers without the reveal permission, withholding restricted values', async () => {
      f = await setupRecordStore(dialect);
      await f.records.importNdjson(f.workspaceId, employee, seedLines(), ADMIN);
      const view: RecordView = await f.records.get(f.workspaceId, 'employee', 'e-1', {
        reveal: false,
        actor: OPERATOR,
      });
      expect(view.revealed).toBe(false);
      expect(view.fields).toEqual({
        email: 'a***@example.org',
        name: '[restricted]',
        phone: '+** ** **** 0018',
        dept: 'R&D',
        salary: '[restricted]',
        born: '****-**-**',
        active: true,
        address: { city: '[redacted]', zip: '00123' },
      });
      const denied = await failure(
        f.records.get(f.workspaceId, 'employee', 'e-1', {
          reveal: true,
          actor: OPERATOR,
          purpose: 'curious',
        }),
      );
      expect(denied.code).toBe('PRIVACY_REVEAL_DENIED');
      const noPurpose = await failure(
        f.records.get(f.workspaceId, 'employee', 'e-1', { reveal: true, actor: ADMIN }),
      );
      expect(noPurpose.code).toBe('PRIVACY_REVEAL_DENIED');
      const events = f.audit.events.map((e) => e.event);
      expect(events.filter((e) => e.action === 'privacy.record.reveal').map((e) => e.outcome)).toEqual([
        'denied',
        'denied',
      ]);
      expect(events.find((e) => e.action === 'privacy.record.read')).toMatchObject({
        resource: { kind: 'record', id: `${f.workspaceId}/employee/e-1` },
        details: { fields: ['email', 'phone', 'born', 'address.city'] },
      });
      await expect(f.records.get(f.workspaceId, 'employee', 'nope', reveal)).rejects.toMatchObject({
        code: 'PRIVACY_RECORD_NOT_FOUND',
      });
    });

    it('reads many records as get reads each: same views in the order asked, one audit event per record', async () => {
      f = await setupRecordStore(dialect);
      await f.records.importNdjson(f.workspaceId, employee, seedLines(), ADMIN);
      const ask = ['e-3', 'nope', 'e-1', '../bad id', 'e-3', 'e-2'];
      const opts = { ...reveal, correlationId: 'req-7' };
      const before = f.audit.events.length;
      const many = await f.records.getMany(f.workspaceId, 'employee', ask, opts);
      const events = f.audit.events.slice(before).map((e) => e.event);
      expect(many.map((v) => v.id)).toEqual(['e-3', 'e-1', 'e-2']);
      for (const v of many) expect(v).toEqual(await f.records.get(f.workspaceId, 'employee', v.id, opts));
      expect(events.map((e) => [e.action, e.outcome, e.resource.id, e.correlationId])).toEqual(
        ['e-3', 'e-1', 'e-2'].map((id) => [
          'privacy.record.reveal',
          'success',
          `${f?.workspaceId ?? ''}/employee/${id}`,
          'req-7',
        ]),
      );
      const masked = await f.records.getMany(f.workspaceId, 'employee', ['e-1'], {
        reveal: false,
        actor: OPERATOR,
      });
      expect(masked).toEqual([
        await f.records.get(f.workspaceId, 'employee', 'e-1', { reveal: false, actor: OPERATOR }),
      ]);
      expect(await f.records.getMany(f.workspaceId, 'employee', [], opts)).toEqual([]);
    });

    it('leaves erased subjects out of a batch read and refuses a reveal it may not make, recording each denial', async () => {
      f = await setupRecordStore(dialect);
      await f.records.importNdjson(f.workspaceId, employee, seedLines(), ADMIN);
      const subject = await f.records.subjectIdFor(f.workspaceId, employee, SEEDED.emails[1]!);
      await f.records.eraseSubject(f.workspaceId, subject, ADMIN);
      const many = await f.records.getMany(f.workspaceId, 'employee', ['e-1', 'e-2', 'e-3'], reveal);
      expect(many.map((v) => [v.id, v.fields.email])).toEqual([
        ['e-1', SEEDED.emails[0]],
        ['e-3', SEEDED.emails[2]],
      ]);
      const before = f.audit.events.length;
      const denied = await failure(
        f.records.getMany(f.workspaceId, 'employee', ['e-1', 'e-3'], {
          reveal: true,
          actor: OPERATOR,
          purpose: 'curious',
        }),
      );
      expect(denied.code).toBe('PRIVACY_REVEAL_DENIED');
      const noPurpose = await failure(
        f.records.getMany(f.workspaceId, 'employee', ['e-1'], { reveal: true, actor: ADMIN }),
      );
      expect(noPurpose.code).toBe('PRIVACY_REVEAL_DENIED');
      expect(
        f.audit.events.slice(before).map((e) => [e.event.action, e.event.outcome, e.event.resource.id]),
      ).toEqual(
        ['e-1', 'e-3', 'e-1'].map((id) => [
          'privacy.record.reveal',
          'denied',
          `${f?.workspaceId ?? ''}/employee/${id}`,
        ]),
      );
    });

    it('rejects the whole import, reporting every bad line by number, and writes nothing', async () => {
      f = await setupRecordStore(dialect);
      const before = await counts(f);
      const lines = [
        JSON.stringify({ id: 'ok-1', email: 'a@example.org', dept: 'x' }),
        '{not json',
        JSON.stringify({ id: 'ok-2', email: 'b@example.org', salary: 'lots' }),
        '',
        JSON.stringify({ id: 'ok-1', email: 'c@example.org' }),
        JSON.stringify({ id: 'ok-3', email: 'd@example.org', shoe: 44 }),
        JSON.stringify({ id: 'ok-4', name: 'No Email' }),
        JSON.stringify({ id: 'ok-5', email: 'e@example.org', born: '1999-02-30' }),
      ].join('\n');
      const err = await failure(f.records.importNdjson(f.workspaceId, employee, lines, ADMIN));
      expect(err.code).toBe('PRIVACY_IMPORT_FAILED');
      expect(err.details.problems).toEqual([
        { field: 'line 2', rule: 'valid JSON', line: 2 },
        { field: 'line 3: salary', rule: 'a finite number', line: 3 },
        { field: 'line 5: id', rule: 'unique in the import (also on line 1)', line: 5 },
        { field: 'line 6: shoe', rule: 'declared in the data schema', line: 6 },
        { field: 'line 7: email', rule: 'required', line: 7 },
        { field: 'line 8: born', rule: 'a calendar date YYYY-MM-DD', line: 8 },
      ]);
      expect(err.message).not.toContain('example.org');
      expect(await counts(f)).toEqual(before);
      expect(f.audit.events.at(-1)?.event).toMatchObject({
        action: 'privacy.record.import',
        outcome: 'failure',
        details: { problems: 6 },
      });
    });

    it('refuses ids already stored (inside the transaction) and rolls back everything', async () => {
      f = await setupRecordStore(dialect);
      await f.records.importNdjson(f.workspaceId, employee, seedLines(), ADMIN);
      const before = await counts(f);
      const lines = [
        JSON.stringify({ id: 'new-1', email: 'n@example.org' }),
        JSON.stringify({ id: 'e-3', email: 'x@example.org' }),
      ].join('\n');
      const err = await failure(f.records.importNdjson(f.workspaceId, employee, lines, ADMIN));
      expect(err.details.problems).toEqual([
        { field: 'line 2: id', rule: 'not already imported (a record with this id exists)', line: 2 },
      ]);
      expect(await counts(f)).toEqual(before);
    });

    it('finds records by blind index, normalized; short indexes drop false matches', async () => {
      f = await setupRecordStore(dialect);
      await f.records.importNdjson(f.workspaceId, employee, seedLines(), ADMIN);
      expect(
        await f.records.findBy(f.workspaceId, 'employee', 'email', '  Grace.Hopper@EXAMPLE.org '),
      ).toEqual(['e-2']);
      expect(await f.records.findBy(f.workspaceId, 'employee', 'email', 'nobody@example.org')).toEqual([]);
      expect(
        await f.records.findBy(f.workspaceId, 'employee', 'name', 'alan   TURING', { actor: ADMIN }),
      ).toEqual(['e-3']);
      await expect(
        f.records.findBy(f.workspaceId, 'employee', 'phone', '+1 212 555 0147'),
      ).rejects.toMatchObject({ code: 'PRIVACY_FIELD_NOT_INDEXED' });
      await expect(f.records.findBy(f.workspaceId, 'employee', 'email', 5)).rejects.toMatchObject({
        code: 'INPUT_INVALID',
      });
      await expect(f.records.findBy(f.workspaceId, 'nobody', 'email', 'x')).rejects.toMatchObject({
        code: 'PRIVACY_SCHEMA_UNKNOWN',
      });
      const digests = await f.t.store.db
        .selectFrom('blind_index')
        .select(['field', 'digest'])
        .where('field', '=', 'name')
        .execute();
      expect(digests.every((d) => d.digest.length === 4)).toBe(true);
      expect(f.audit.events.at(-1)?.event).toMatchObject({
        action: 'privacy.record.lookup',
        details: { field: 'name', matches: 1 },
      });
    });

    it('erases one subject: their records become unreadable and unfindable, nobody else is touched', async () => {
      f = await setupRecordStore(dialect);
      await f.records.importNdjson(f.workspaceId, employee, seedLines(), ADMIN);
      const subject = await f.records.subjectIdFor(f.workspaceId, employee, 'ADA.LOVELACE@example.org');
      const view = await f.records.get(f.workspaceId, 'employee', 'e-1', reveal);
      expect(view.subjectId).toBe(subject);
      expect(await f.records.eraseSubject(f.workspaceId, subject, ADMIN)).toEqual({
        records: 1,
        dekCount: 1,
      });
      await expect(f.records.get(f.workspaceId, 'employee', 'e-1', reveal)).rejects.toMatchObject({
        code: 'KEYS_SUBJECT_SHREDDED',
      });
      expect(await f.records.findBy(f.workspaceId, 'employee', 'email', SEEDED.emails[0]!)).toEqual([]);
      expect((await f.records.get(f.workspaceId, 'employee', 'e-2', reveal)).fields.email).toBe(
        SEEDED.emails[1],
      );
      const again = await failure(
        f.records.importNdjson(
          f.workspaceId,
          employee,
          JSON.stringify({ id: 'e-9', email: SEEDED.emails[0] }),
          ADMIN,
        ),
      );
      expect(again.details.problems).toEqual([
        { field: 'line 1: email', rule: 'data subject was erased', line: 1 },
      ]);
      const actions = f.audit.events.map((e) => e.event.action);
      expect(actions).toContain('key.subject.shred');
      expect(actions).toContain('privacy.subject.erase');
    });

    it('names moved, tampered and foreign ciphertext in stored records', async () => {
      f = await setupRecordStore(dialect);
      await f.records.importNdjson(f.workspaceId, employee, seedLines(), ADMIN);
      const db = f.t.store.db;
      const row = async (id: string): Promise<Record<string, unknown>> =>
        JSON.parse(
          (await db.selectFrom('records').select('data').where('id', '=', id).executeTakeFirstOrThrow()).data,
        ) as Record<string, unknown>;
      const put = (id: string, data: unknown) =>
        db
          .updateTable('records')
          .set({ data: JSON.stringify(data) })
          .where('id', '=', id)
          .execute();
      const e1 = await row('e-1');
      const e2 = await row('e-2');
      await put('e-2', { ...e2, email: e1.email });
      await expect(f.records.get(f.workspaceId, 'employee', 'e-2', reveal)).rejects.toMatchObject({
        code: 'PRIVACY_AAD_MISMATCH',
        details: { rule: 'same record' },
      });
      await put('e-2', { ...e2, email: e2.phone });
      await expect(f.records.get(f.workspaceId, 'employee', 'e-2', reveal)).rejects.toMatchObject({
        code: 'PRIVACY_AAD_MISMATCH',
        details: { rule: 'same field' },
      });
      const [p, kv, body] = String(e2.email).split('.');
      const bytes = Buffer.from(body!, 'base64url');
      bytes[bytes.length - 1]! ^= 0x80;
      await put('e-2', { ...e2, email: `${p}.${kv}.${bytes.toString('base64url')}` });
      await expect(f.records.get(f.workspaceId, 'employee', 'e-2', reveal)).rejects.toMatchObject({
        code: 'PRIVACY_CIPHERTEXT_TAMPERED',
      });
      await createWorkspaceRow(f.t, 'ws2');
      await f.keyring.initWorkspace('ws2', ADMIN);
      await f.records.importNdjson(
        'ws2',
        employee,
        JSON.stringify({ id: 'e-1', email: 'z@example.org' }),
        ADMIN,
      );
      await db
        .updateTable('records')
        .set({ data: JSON.stringify(e1) })
        .where('workspace_id', '=', 'ws2')
        .execute();
      await expect(f.records.get('ws2', 'employee', 'e-1', reveal)).rejects.toMatchObject({
        code: 'PRIVACY_WORKSPACE_MISMATCH',
      });
    });

    it('a DEK restored from before its key version was destroyed → KEYS_VERSION_DESTROYED', async () => {
      f = await setupRecordStore(dialect);
      await f.records.importNdjson(
        f.workspaceId,
        employee,
        JSON.stringify({ id: 'x-1', email: 'restore@example.org' }),
        ADMIN,
      );
      await f.records.importNdjson(
        f.workspaceId,
        (await import('../../../src/privacy/index.ts')).parseDataSchema(
          'type: note\nfields:\n  body: {classification: confidential, category: free_text}\n',
        ),
        JSON.stringify({ id: 'n-1', body: 'hello' }),
        ADMIN,
      );
      const db = f.t.store.db;
      const rec = await db
        .selectFrom('records')
        .select('dek_id')
        .where('id', '=', 'n-1')
        .executeTakeFirstOrThrow();
      const backup = await db
        .selectFrom('deks')
        .selectAll()
        .where('id', '=', rec.dek_id)
        .executeTakeFirstOrThrow();
      expect(backup.kek_version).toBe(1);
      await f.keyring.rotate(f.workspaceId, ADMIN);
      await f.keyring.rewrap(f.workspaceId, ADMIN);
      await f.keyring.destroyVersion(f.workspaceId, 1, ADMIN);
      expect((await f.records.get(f.workspaceId, 'note', 'n-1', reveal)).fields).toEqual({ body: 'hello' });
      await db
        .updateTable('deks')
        .set({ kek_version: backup.kek_version, wrapped: backup.wrapped })
        .where('id', '=', backup.id)
        .execute();
      await expect(f.records.get(f.workspaceId, 'note', 'n-1', reveal)).rejects.toMatchObject({
        code: 'KEYS_VERSION_DESTROYED',
      });
    });

    it('a corrupt keyring or another root key is named, and nothing is written', async () => {
      f = await setupRecordStore(dialect);
      const other = await openLocalRootKeyFile(join(f.dir, 'root.key'));
      const db = f.t.store.db;
      const kek = await db.selectFrom('kek_versions').select('wrapped').executeTakeFirstOrThrow();
      const bad = Buffer.from(kek.wrapped!);
      bad[bad.length - 1]! ^= 1;
      await db.updateTable('kek_versions').set({ wrapped: bad }).execute();
      const keyring = new Keyring({ store: f.t.store, root: other, audit: new MemoryAuditSink() });
      const records = new RecordStore({ store: f.t.store, keyring, audit: new MemoryAuditSink() });
      const before = await counts(f);
      const err = await failure(records.importNdjson(f.workspaceId, employee, seedLines(), ADMIN));
      expect(err.code).toBe('KEYS_KEYRING_CORRUPT');
      expect(err.details).toMatchObject({ field: 'kek_versions', version: 1 });
      expect(await counts(f)).toEqual(before);
    });

    it('never puts a seeded value into an audit event or an error', async () => {
      f = await setupRecordStore(dialect);
      const errors: unknown[] = [];
      await f.records.importNdjson(f.workspaceId, employee, seedLines(), ADMIN);
      await f.records.get(f.workspaceId, 'employee', 'e-1', reveal);
      await f.records.get(f.workspaceId, 'employee', 'e-2', { reveal: false, actor: OPERATOR });
      await f.records
        .get(f.workspaceId, 'employee', 'e-2', { reveal: true, actor: OPERATOR, purpose: 'x' })
        .catch((e: unknown) => errors.push(e));
      await f.records.findBy(f.workspaceId, 'employee', 'email', SEEDED.emails[2]!, { actor: OPERATOR });
      const bad = seedLines()
        .replace(SEEDED.emails[1]!, 42 as unknown as string)
        .replace(`"${SEEDED.names[0]!}"`, '["x"]');
      await f.records.importNdjson(f.workspaceId, employee, bad, ADMIN).catch((e: unknown) => errors.push(e));
      await f.records
        .importNdjson(f.workspaceId, employee, seedLines(), ADMIN)
        .catch((e: unknown) => errors.push(e));
      await f.keyring.rotate(f.workspaceId, ADMIN);
      await f.keyring.rewrap(f.workspaceId, ADMIN);
      await f.records.eraseSubject(
        f.workspaceId,
        await f.records.subjectIdFor(f.workspaceId, employee, SEEDED.emails[0]!),
        ADMIN,
      );
      await f.records.lowerEnvCopy(f.workspaceId, 'employee', ADMIN);
      expect(errors).toHaveLength(3);
      const sinks =
        JSON.stringify(f.audit.events) +
        JSON.stringify(errors.map((e) => [String(e), (e as CustosError).details]));
      for (const s of seededStrings()) expect(sinks).not.toContain(s);
      for (const s of SEEDED.emails) expect(sinks.toLowerCase()).not.toContain(s.split('@')[0]);
    });
  });
}
