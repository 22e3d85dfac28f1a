import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Archive } from '../../src/custody/archive/archive.ts';
import type { BlobBackend } from '../../src/custody/archive/backend.ts';
import { DbBackend } from '../../src/custody/archive/db-backend.ts';
import { FsBackend } from '../../src/custody/archive/fs-backend.ts';
import type { Caller } from '../../src/custody/roles.ts';
import { Scrubber } from '../../src/custody/scrubber.ts';
import { isCustosError } from '../../src/errors/index.ts';
import { MemoryAuditSink } from '../../src/ledger/index.ts';
import { createTestStore, DIALECTS, type TestStore } from '../helpers/dialects.ts';

const root = mkdtempSync(join(tmpdir(), 'custos-archive-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const exporter: Caller = { actor: { kind: 'service', id: 'exporter' }, roles: ['exporter'] };
const alice: Caller = { actor: { kind: 'user', id: 'alice' }, roles: ['admin'] };
const bob: Caller = { actor: { kind: 'user', id: 'bob' }, roles: ['admin'] };
const auditor: Caller = { actor: { kind: 'user', id: 'audrey' }, roles: ['auditor'] };
const system = { kind: 'system', id: 'scrubber' } as const;

function file(bytes: Buffer): { path: string; sha256: string } {
  const path = join(root, `in-${randomBytes(6).toString('hex')}`);
  writeFileSync(path, bytes);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex') };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (isCustosError(err)) return err.code;
    return `other: ${String(err)}`;
  }
}

for (const dialect of DIALECTS) {
  for (const kind of ['fs', 'db'] as const) {
    describe(`archive on ${dialect} with the ${kind} backend`, () => {
      let t: TestStore;
      let dir: string;
      let audit: MemoryAuditSink;
      let primary: BlobBackend;
      let replica: FsBackend;
      let now = new Date('2030-01-01T00:00:00Z');
      let archive: Archive;
      let ws = '';
      let n = 0;

      // One store per dialect and backend, a fresh workspace per test. The two scrub tests switch
      // triggers off to play the tamperer, so they come last.
      beforeAll(async () => {
        t = await createTestStore(dialect);
      });
      afterAll(async () => {
        await t.cleanup();
      });
      beforeEach(async () => {
        ws = `ws${++n}`;
        await t.store.db
          .insertInto('workspaces')
          .values({ id: ws, name: ws, created_at: new Date().toISOString() })
          .execute();
        dir = mkdtempSync(join(root, `${dialect}-${kind}-`));
        audit = new MemoryAuditSink();
        primary = kind === 'fs' ? new FsBackend(join(dir, 'primary')) : new DbBackend(t.store);
        replica = new FsBackend(join(dir, 'replica'));
        now = new Date('2030-01-01T00:00:00Z');
        archive = new Archive({ store: t.store, primary, replica, audit, now: () => now });
      });

      it('stores content-addressed, idempotently, and reads back verified', async () => {
        const bytes = randomBytes(3 * 1024 * 1024 + 17);
        const f = file(bytes);
        const e = await archive.put(
          ws,
          f.path,
          { exportId: 'exp-1', retainUntil: '2031-01-01T00:00:00.000Z' },
          exporter,
        );
        expect(e.sha256).toBe(f.sha256);
        expect(e.size).toBe(bytes.length);
        const again = await archive.put(
          ws,
          f.path,
          { exportId: 'exp-1', retainUntil: '2031-01-01T00:00:00.000Z' },
          exporter,
        );
        expect(again.createdAt).toBe(e.createdAt);
        if (primary instanceof FsBackend) expect(statSync(primary.pathOf(f.sha256)).mode & 0o777).toBe(0o444);
        expect(statSync(replica.pathOf(f.sha256)).mode & 0o777).toBe(0o444);
        const out = join(dir, 'copy');
        await archive.get(ws, f.sha256, out, auditor);
        expect(readFileSync(out).equals(bytes)).toBe(true);
        expect(await code(archive.get(ws, f.sha256, out, auditor))).toBe('CUSTODY_ARCHIVE_IO');
        expect((await archive.list(ws, auditor)).map((x) => x.sha256)).toEqual([f.sha256]);
        const actions = audit.events.map((x) => x.event.action);
        expect(actions).toEqual(['custody.archived', 'custody.downloaded']);
        expect(audit.events[0]?.event.details?.bundleSha256).toBe(f.sha256);
        expect(audit.events[1]?.event.actor).toEqual(auditor.actor);
      });

      it('lets exporters add but never change, and auditors only read', async () => {
        const f = file(randomBytes(100));
        await archive.put(ws, f.path, { retainUntil: '2020-01-01T00:00:00.000Z' }, exporter);
        expect(
          await code(
            archive.put(ws, file(randomBytes(10)).path, { retainUntil: '2031-01-01T00:00:00.000Z' }, auditor),
          ),
        ).toBe('CUSTODY_ARCHIVE_DENIED');
        for (const p of [
          archive.hold(ws, f.sha256, 'x', exporter),
          archive.release(ws, f.sha256, exporter),
          archive.requestDeletion(ws, f.sha256, exporter),
          archive.approveDeletion(ws, f.sha256, exporter),
          archive.hold(ws, f.sha256, 'x', auditor),
          archive.requestDeletion(ws, f.sha256, auditor),
        ]) {
          expect(await code(p)).toBe('CUSTODY_ARCHIVE_DENIED');
        }
        expect(await code(archive.entry('other', f.sha256))).toBe('CUSTODY_ARCHIVE_NOT_FOUND');
      });

      it('deletes only after retention, without hold, by two different admins', async () => {
        const f = file(randomBytes(5000));
        await archive.put(
          ws,
          f.path,
          { exportId: 'exp-2', retainUntil: '2031-01-01T00:00:00.000Z' },
          exporter,
        );
        expect(await code(archive.requestDeletion(ws, f.sha256, alice))).toBe('CUSTODY_RETENTION_ACTIVE');
        now = new Date('2031-06-01T00:00:00Z');
        await archive.hold(ws, f.sha256, 'litigation 7', alice);
        expect(await code(archive.requestDeletion(ws, f.sha256, alice))).toBe('CUSTODY_LEGAL_HOLD');
        await archive.release(ws, f.sha256, bob);
        expect(await code(archive.approveDeletion(ws, f.sha256, bob))).toBe('CUSTODY_DELETION_NOT_REQUESTED');
        await archive.requestDeletion(ws, f.sha256, alice);
        expect(await code(archive.approveDeletion(ws, f.sha256, alice))).toBe('CUSTODY_SAME_APPROVER');
        const done = await archive.approveDeletion(ws, f.sha256, bob);
        expect(done.deletedAt).not.toBeNull();
        expect(await primary.has(f.sha256)).toBe(false);
        expect(await replica.has(f.sha256)).toBe(false);
        expect(await archive.list(ws, auditor)).toEqual([]);
        expect((await archive.list(ws, auditor, { includeDeleted: true }))[0]?.sha256).toBe(f.sha256);
        expect(await code(archive.get(ws, f.sha256, join(dir, 'gone'), auditor))).toBe(
          'CUSTODY_ARCHIVE_NOT_FOUND',
        );
        expect(
          await code(archive.put(ws, f.path, { retainUntil: '2040-01-01T00:00:00.000Z' }, exporter)),
        ).toBe('CUSTODY_ARCHIVE_IMMUTABLE');
        expect(audit.events.map((x) => x.event.action)).toEqual([
          'custody.archived',
          'custody.hold',
          'custody.released',
          'custody.deletion-requested',
          'custody.deleted',
        ]);
        expect(audit.events.every((x) => x.event.details?.bundleSha256 === f.sha256)).toBe(true);
      });

      it('is immutable at the database too', async () => {
        const f = file(randomBytes(2000));
        await archive.put(ws, f.path, { retainUntil: '2031-01-01T00:00:00.000Z' }, exporter);
        const db = t.store.db;
        const refused = async (q: { execute(db: typeof t.store.db): Promise<unknown> }): Promise<boolean> => {
          try {
            await q.execute(db);
            return false;
          } catch {
            return true;
          }
        };
        expect(await refused(sql`delete from custody_archive where sha256 = ${f.sha256}`)).toBe(true);
        expect(await refused(sql`update custody_archive set size = 1 where sha256 = ${f.sha256}`)).toBe(true);
        expect(
          await refused(
            sql`update custody_archive set retain_until = '2020-01-01T00:00:00.000Z' where sha256 = ${f.sha256}`,
          ),
        ).toBe(true);
        expect(
          await refused(
            sql`update custody_archive set retain_until = '2040-01-01T00:00:00.000Z' where sha256 = ${f.sha256}`,
          ),
        ).toBe(false);
        if (kind === 'db') {
          expect(
            await refused(
              sql`update custody_archive_chunks set data = ${Buffer.from('x')} where sha256 = ${f.sha256}`,
            ),
          ).toBe(true);
          expect(await refused(sql`delete from custody_archive_chunks where sha256 = ${f.sha256}`)).toBe(
            true,
          );
        }
      });

      it('scrubs: detects corruption, alerts, repairs from the replica and records both', async () => {
        const blobs = [file(randomBytes(70_000)), file(randomBytes(10)), file(randomBytes(2_000_000))];
        for (const b of blobs)
          await archive.put(
            ws,
            b.path,
            { exportId: `e-${b.sha256.slice(0, 4)}`, retainUntil: '2031-01-01T00:00:00.000Z' },
            exporter,
          );
        const victim = blobs[2]!;
        if (primary instanceof FsBackend) {
          const p = primary.pathOf(victim.sha256);
          chmodSync(p, 0o644);
          const bytes = readFileSync(p);
          bytes[1234] = (bytes[1234] ?? 0) ^ 0xff;
          writeFileSync(p, bytes);
        } else {
          // A tamperer with rights to bypass the triggers (a database superuser).
          if (dialect === 'sqlite')
            await sql`drop trigger custody_archive_chunks_no_update`.execute(t.store.db);
          else
            await sql`alter table custody_archive_chunks disable trigger custody_archive_chunks_guard`.execute(
              t.store.db,
            );
          await sql`update custody_archive_chunks set data = ${Buffer.from('tampered')} where sha256 = ${victim.sha256} and seq = 1`.execute(
            t.store.db,
          );
        }
        const alerts: unknown[] = [];
        const scrubber = new Scrubber({
          archive,
          audit,
          actor: system,
          workspaceId: ws,
          onAlert: (a) => alerts.push(a),
        });
        audit.events.length = 0;
        const result = await scrubber.scrub({ all: true });
        expect(result.checked).toBe(3);
        expect(result.ok).toBe(2);
        expect(result.repaired).toBe(1);
        expect(alerts).toEqual([
          {
            sha256: victim.sha256,
            workspaceId: ws,
            location: primary.name,
            problem: 'mismatch',
            repaired: true,
          },
        ]);
        expect(audit.events.map((e) => [e.event.action, e.event.details?.bundleSha256])).toEqual([
          ['custody.integrity-failed', victim.sha256],
          ['custody.repaired', victim.sha256],
        ]);
        const again = await scrubber.scrub({ all: true });
        expect(again.failed).toEqual([]);
        const out = join(dir, 'repaired');
        await archive.get(ws, victim.sha256, out, auditor);
        expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(victim.sha256);
      });

      it('scrubs a sample, least recently checked first, and reports a loss it cannot repair', async () => {
        const lonely = new Archive({ store: t.store, primary, audit, now: () => now });
        const blobs = Array.from({ length: 6 }, () => file(randomBytes(100)));
        for (const b of blobs)
          await lonely.put(ws, b.path, { retainUntil: '2031-01-01T00:00:00.000Z' }, exporter);
        const scrubber = new Scrubber({
          archive: lonely,
          audit,
          actor: system,
          sample: 0.34,
          workspaceId: ws,
        });
        const first = await scrubber.scrub();
        expect(first.checked).toBe(3);
        now = new Date('2030-01-02T00:00:00Z');
        const second = await scrubber.scrub();
        expect(second.checked).toBe(3);
        const scrubbed = (await lonely.list(ws, auditor)).filter((e) => e.lastScrubAt !== null);
        expect(scrubbed.length).toBe(6);
        const victim = blobs[0]!;
        if (primary instanceof FsBackend) {
          rmSync(primary.pathOf(victim.sha256), { force: true });
        } else {
          if (dialect === 'sqlite') await sql`drop trigger custody_archive_chunks_delete`.execute(t.store.db);
          else
            await sql`alter table custody_archive_chunks disable trigger custody_archive_chunks_guard`.execute(
              t.store.db,
            );
          await sql`delete from custody_archive_chunks where sha256 = ${victim.sha256}`.execute(t.store.db);
        }
        const all = await scrubber.scrub({ all: true });
        expect(all.failed).toEqual([
          {
            sha256: victim.sha256,
            workspaceId: ws,
            location: primary.name,
            problem: 'missing',
            repaired: false,
          },
        ]);
        expect((await lonely.entry(ws, victim.sha256)).lastScrubOk).toBe(false);
      });
    });
  }
}
