import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  closeDigestWorkers,
  createExport,
  createExportOnce,
  idempotentExportId,
  openCustody,
  parseKeyList,
  verifyBundleFile,
  type Caller,
  type Custody,
  type ExportContext,
  type ExportRecordSource,
} from '../../src/custody/index.ts';
import type { JsonValue } from '../../src/crypto/index.ts';
import { isCustosError } from '../../src/errors/index.ts';
import type { Ledgers } from '../../src/ledger/index.ts';
import { createTestStore, DIALECTS, type TestStore } from '../helpers/dialects.ts';
import { addWorkspace, openLedgers, testRoot } from '../ledger/helpers.ts';
import { FILES } from '../../src/custody/bundle/layout.ts';
import { get, unpack } from './helpers/tamper.ts';
import { startTsa, type Tsa } from './helpers/tsa.ts';

const root = mkdtempSync(join(tmpdir(), 'custos-export-'));
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await closeDigestWorkers();
});

const admin: Caller = { actor: { kind: 'user', id: 'alice' }, roles: ['admin'] };
const exporter: Caller = { actor: { kind: 'service', id: 'nightly' }, roles: ['exporter'] };
const auditor: Caller = { actor: { kind: 'user', id: 'audrey' }, roles: ['auditor'] };

/** A record source standing in for the privacy record store: it applies the treatments it is given. */
function memorySource(
  records: Record<string, Record<string, Record<string, JsonValue>>>,
): ExportRecordSource {
  return {
    idsAfter: (_ws, type, after, limit) =>
      Promise.resolve(
        Object.keys(records[type] ?? {})
          .sort()
          .filter((id) => after === undefined || id > after)
          .slice(0, limit),
      ),
    read: (_ws, type, ids, fields) =>
      Promise.resolve(
        ids.flatMap((id) => {
          const r = records[type]?.[id];
          if (r === undefined) return [];
          const data: Record<string, JsonValue> = {};
          for (const [f, t] of Object.entries(fields)) {
            const v = r[f];
            if (v === undefined) continue;
            data[f] =
              t === 'clear'
                ? v
                : t === 'mask'
                  ? '***'
                  : `tok_${createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 12)}`;
          }
          return [{ id, data }];
        }),
      ),
  };
}

const DEFINITION = {
  name: 'regulator-customers',
  outputSchemaVersion: 2,
  records: [
    {
      type: 'customer',
      fields: {
        name: 'clear',
        email: { treatment: 'clear', fallback: 'tokenize' },
        ssn: 'tokenize',
        score: 'clear',
      },
    },
  ],
  triggeredBy: ['exporter', 'admin'],
  purpose: 'Art. 58 GDPR request',
  retentionDays: 3650,
  sourceOrganization: 'Acme GmbH',
};

for (const dialect of DIALECTS) {
  describe(`export on ${dialect}`, () => {
    let t: TestStore;
    let ledgers: Ledgers;
    let custody: Custody;
    let ctx: ExportContext;
    let dir: string;
    let ws = '';
    let n = 0;

    // One store and ledger set per dialect; each test works in a workspace of its own.
    beforeAll(async () => {
      t = await createTestStore(dialect);
      ledgers = openLedgers(t.store);
    });
    afterAll(async () => {
      await ledgers.close();
      await t.cleanup();
    });
    beforeEach(async () => {
      ws = `ws${++n}`;
      await addWorkspace(t.store, ws);
      dir = mkdtempSync(join(root, `${dialect}-`));
      const host = {
        store: t.store,
        root: testRoot(),
        audit: ledgers.auditSink,
        ledgers,
        paths: { dataDir: dir },
      };
      custody = openCustody(host, {
        archiveBackend: dialect === 'postgres' ? 'db' : 'fs',
        archiveDir: join(dir, 'archive'),
        scrubSample: 0.1,
      });
      const customers: Record<string, Record<string, JsonValue>> = {};
      for (let i = 0; i < 120; i++)
        customers[`c${String(i).padStart(4, '0')}`] = {
          name: `Person ${i}`,
          email: `p${i}@example.test`,
          ssn: `078-05-${String(1000 + i)}`,
          score: i,
        };
      ctx = {
        workspaceId: ws,
        store: t.store,
        ledgers,
        audit: ledgers.auditSink,
        keys: custody.keys,
        definitions: custody.definitions,
        archive: custody.archive,
        records: memorySource({ customer: customers }),
      };
      await custody.definitions.save(ws, DEFINITION, admin);
    });

    it('produces an archived bundle that verifies offline against the real ledger and the key list', async () => {
      const r = await createExport(ctx, {
        definition: 'regulator-customers',
        out: join(dir, 'a.tar'),
        caller: exporter,
      });
      expect(r.payloadOxum).toMatch(/^\d+\.1$/);
      expect(r.archive.sha256).toBe(createHash('sha256').update(readFileSync(r.path)).digest('hex'));
      const list = parseKeyList(await custody.keys.keyList(ws));
      const report = await verifyBundleFile(r.path, { trustedKeys: list.trusted, revokedKeys: list.revoked });
      expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
      expect(report.checks.find((c) => c.id === 'ledger-inclusion')?.detail).toMatch(
        /^entry \d+ of \d+ in custos\.test\/ws\d+$/,
      );
      const lines = get(await unpack(r.path), FILES.records)
        .toString()
        .trim()
        .split('\n');
      expect(lines).toHaveLength(120);
      // No purpose grant: clear-allowed fields fall back (email → token, name → mask); ssn is always tokenized.
      const first = JSON.parse(lines[0]!) as { id: string; data: Record<string, unknown> };
      expect(first.id).toBe('c0000');
      expect(first.data.email).toMatch(/^tok_/);
      expect(first.data.ssn).toMatch(/^tok_/);
      expect(first.data.name).toBe('***');
      expect(first.data.score).toBe('***');
      expect((await ledgers.verify(ws)).ok).toBe(true);
    });

    it('lists ids page by page: every record once, in order, across many pages', async () => {
      const customers: Record<string, Record<string, JsonValue>> = {};
      // Mixed case and punctuation: code-unit order, not a locale's.
      for (let i = 0; i < 1203; i++)
        customers[`${['B', 'a', 'A', '_', 'z'][i % 5] ?? 'x'}-${String(i).padStart(5, '0')}`] = { score: i };
      const pages: (string | undefined)[] = [];
      const progress: number[] = [];
      const source = memorySource({ customer: customers });
      const r = await createExport(
        {
          ...ctx,
          records: {
            ...source,
            idsAfter: (w, type, after, limit) => {
              pages.push(after);
              return source.idsAfter(w, type, after, limit);
            },
          },
        },
        {
          definition: 'regulator-customers',
          out: join(dir, 'pages.tar'),
          caller: exporter,
          onProgress: (n) => progress.push(n),
        },
      );
      const ids = get(await unpack(r.path), FILES.records)
        .toString()
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id);
      expect(ids).toEqual(Object.keys(customers).sort());
      expect(progress).toEqual([500, 1000, 1203]);
      expect(pages).toHaveLength(3);
      expect(pages[0]).toBeUndefined();
      expect(pages[1]).toBe(ids[499]);
    });

    it('refuses a record source that lists ids out of order, and archives nothing', async () => {
      const source = ctx.records;
      const shuffled: ExportRecordSource = {
        ...source,
        idsAfter: async (w, type, after, limit) => (await source.idsAfter(w, type, after, limit)).reverse(),
      };
      await expect(
        createExport(
          { ...ctx, records: shuffled },
          { definition: 'regulator-customers', out: join(dir, 'bad.tar'), caller: exporter },
        ),
      ).rejects.toMatchObject({ code: 'CUSTODY_DEFINITION_INVALID' });
      expect(existsSync(join(dir, 'bad.tar'))).toBe(false);
      expect(await custody.archive.list(ws, auditor)).toEqual([]);
    });

    it('records every custody step with the actor and the bundle digest', async () => {
      const r = await createExport(ctx, {
        definition: 'regulator-customers',
        out: join(dir, 'b.tar'),
        caller: exporter,
        purpose: 'audit 2031',
      });
      const ledger = await ledgers.open(ws);
      const size = await ledger.size();
      const events = (await ledgers.store.entries(ws, 0, size)).map(
        (e) =>
          JSON.parse(e.toString()) as {
            action: string;
            actor: unknown;
            details?: Record<string, unknown>;
            purpose?: string;
          },
      );
      const custodyEvents = events.filter(
        (e) => e.action.startsWith('custody.') && e.details?.exportId === r.exportId,
      );
      expect(custodyEvents.map((e) => e.action)).toEqual([
        'custody.requested',
        'custody.produced',
        'custody.archived',
      ]);
      for (const e of custodyEvents) expect(e.actor).toEqual(exporter.actor);
      expect(custodyEvents[1]?.details?.statementSha256).toBe(r.statementSha256);
      expect(custodyEvents[2]?.details?.bundleSha256).toBe(r.bundleSha256);
      expect(custodyEvents[0]?.purpose).toBe('audit 2031');
      await custody.archive.record(ws, r.bundleSha256, 'custody.delivered', admin, { to: 'regulator' });
      const out = join(dir, 'copy.tar');
      await custody.archive.get(ws, r.bundleSha256, out, auditor);
      const after = (await ledgers.store.entries(ws, size, await ledger.size())).map(
        (e) => JSON.parse(e.toString()) as { action: string; details?: Record<string, unknown> },
      );
      expect(after.map((e) => e.action)).toEqual(['custody.delivered', 'custody.downloaded']);
      expect(after.every((e) => e.details?.bundleSha256 === r.bundleSha256)).toBe(true);
    });

    /** The workspace ledger's custody events of one export, in order. */
    async function custodyEventsOf(exportId: string) {
      const ledger = await ledgers.open(ws);
      return (await ledgers.store.entries(ws, 0, await ledger.size()))
        .map(
          (e) =>
            JSON.parse(e.toString()) as {
              action: string;
              correlationId?: string;
              outcome: string;
              details?: Record<string, unknown>;
            },
        )
        .filter((e) => e.action.startsWith('custody.') && e.details?.exportId === exportId);
    }

    it('carries the correlation id on the requested, produced and archived events', async () => {
      const r = await createExport(
        { ...ctx, correlationId: 'req-7f3a.9' },
        { definition: 'regulator-customers', out: join(dir, 'corr.tar'), caller: exporter },
      );
      const events = await custodyEventsOf(r.exportId);
      expect(events.map((e) => [e.action, e.correlationId])).toEqual([
        ['custody.requested', 'req-7f3a.9'],
        ['custody.produced', 'req-7f3a.9'],
        ['custody.archived', 'req-7f3a.9'],
      ]);
      // Without one, the events have none.
      const plain = await createExport(ctx, {
        definition: 'regulator-customers',
        out: join(dir, 'plain.tar'),
        caller: exporter,
      });
      expect((await custodyEventsOf(plain.exportId)).every((e) => e.correlationId === undefined)).toBe(true);
    });

    it('produces one bundle per idempotency key: a retry returns the bundle already archived', async () => {
      const key = 'run-42.3';
      const options = { definition: 'regulator-customers', caller: exporter, idempotencyKey: key };
      // An attempt that fails before archiving leaves nothing to reuse.
      const down: ExportRecordSource = {
        idsAfter: (...args) => ctx.records.idsAfter(...args),
        read: () => Promise.reject(new Error('record store down')),
      };
      await expect(
        createExportOnce({ ...ctx, records: down }, { ...options, out: join(dir, 'i0.tar') }),
      ).rejects.toThrow('record store down');
      const first = await createExportOnce(ctx, { ...options, out: join(dir, 'i1.tar') });
      expect(first).toMatchObject({ exportId: idempotentExportId(ws, key), reused: false });
      const again = await createExportOnce(ctx, { ...options, out: join(dir, 'i2.tar') });
      expect(again).toEqual({ ...first, reused: true });
      expect(existsSync(join(dir, 'i2.tar'))).toBe(false);
      const archived = await custody.archive.list(ws, auditor);
      expect(archived.filter((e) => e.exportId === first.exportId).map((e) => e.sha256)).toEqual([
        first.bundleSha256,
      ]);
      const events = await custodyEventsOf(first.exportId);
      expect(events.filter((e) => e.action === 'custody.produced')).toHaveLength(1);
      expect(events.at(-1)).toMatchObject({
        action: 'custody.requested',
        outcome: 'success',
        details: { reused: true, bundleSha256: first.bundleSha256 },
      });
      // Another key (another step or run) is another export; the same key in another workspace too.
      const other = await createExportOnce(ctx, {
        ...options,
        idempotencyKey: 'run-42.4',
        out: join(dir, 'i3.tar'),
      });
      expect(other.exportId).not.toBe(first.exportId);
      expect(idempotentExportId(`${ws}x`, key)).not.toBe(first.exportId);
    });

    it('reuses a bundle archived by an attempt that failed after archiving', async () => {
      const key = 'run-43.1';
      const exportId = idempotentExportId(ws, key);
      // A row already holding the export id makes the attempt fail after the archive step, as a crash
      // between archiving and bookkeeping would leave it.
      await t.store.db
        .insertInto('custody_exports')
        .values({
          id: exportId,
          workspace_id: ws,
          definition_name: 'regulator-customers',
          definition_version: 1,
          purpose: 'p',
          actor_kind: 'service',
          actor_id: 'nightly',
          key_id: 'k',
          statement_sha256: '00',
          bundle_sha256: '00',
          bundle_size: 0,
          payload_oxum: '0.1',
          recipients: '[]',
          ledger_index: 0,
          created_at: new Date().toISOString(),
        })
        .execute();
      const options = { definition: 'regulator-customers', caller: exporter, idempotencyKey: key };
      await expect(createExportOnce(ctx, { ...options, out: join(dir, 'c1.tar') })).rejects.toThrow();
      const [entry] = (await custody.archive.list(ws, auditor)).filter((e) => e.exportId === exportId);
      expect(entry).toBeDefined();
      const retry = await createExportOnce(ctx, { ...options, out: join(dir, 'c2.tar') });
      expect(retry).toEqual({ exportId, bundleSha256: entry?.sha256, size: entry?.size, reused: true });
    });

    it('gives the same payload bytes and manifests for the same records', async () => {
      const a = await createExport(ctx, {
        definition: 'regulator-customers',
        out: join(dir, 'd1.tar'),
        caller: exporter,
      });
      await custody.keys.rotate(ws, admin);
      const b = await createExport(ctx, {
        definition: 'regulator-customers',
        out: join(dir, 'd2.tar'),
        caller: exporter,
      });
      expect(a.bundleSha256).not.toBe(b.bundleSha256);
      const fa = await unpack(a.path);
      const fb = await unpack(b.path);
      for (const name of [FILES.records, FILES.manifest256, FILES.manifest512])
        expect(get(fa, name).equals(get(fb, name))).toBe(true);
    });

    it('exports clear values only with a purpose grant, and only to roles the definition names', async () => {
      const granted = await createExport(ctx, {
        definition: 'regulator-customers',
        out: join(dir, 'g.tar'),
        caller: { ...exporter, canReadClear: true },
      });
      const first = JSON.parse(
        get(await unpack(granted.path), FILES.records)
          .toString()
          .split('\n')[0]!,
      ) as { data: Record<string, unknown> };
      expect(first.data.email).toBe('p0@example.test');
      expect(first.data.ssn).toMatch(/^tok_/);
      const denied = await createExport(ctx, {
        definition: 'regulator-customers',
        out: join(dir, 'x.tar'),
        caller: auditor,
      }).catch((e: unknown) => e);
      expect(isCustosError(denied, 'CUSTODY_EXPORT_DENIED')).toBe(true);
      const missing = await createExport(ctx, {
        definition: 'nope',
        out: join(dir, 'y.tar'),
        caller: admin,
      }).catch((e: unknown) => e);
      expect(isCustosError(missing, 'CUSTODY_DEFINITION_NOT_FOUND')).toBe(true);
      const badRecipient = await createExport(ctx, {
        definition: 'regulator-customers',
        out: join(dir, 'z.tar'),
        caller: admin,
        recipients: ['age1nope'],
      }).catch((e: unknown) => e);
      expect(isCustosError(badRecipient, 'CUSTODY_AGE_KEY_INVALID')).toBe(true);
    });

    it('rotates and revokes keys: old bundles still verify after rotation, not after revocation', async () => {
      const old = await createExport(ctx, {
        definition: 'regulator-customers',
        out: join(dir, 'old.tar'),
        caller: exporter,
      });
      const rotated = await custody.keys.rotate(ws, admin);
      expect(rotated.version).toBe(2);
      const fresh = await createExport(ctx, {
        definition: 'regulator-customers',
        out: join(dir, 'new.tar'),
        caller: exporter,
      });
      expect(fresh.keyId).toBe(rotated.keyId);
      let list = parseKeyList(await custody.keys.keyList(ws));
      expect(
        (await verifyBundleFile(old.path, { trustedKeys: list.trusted, revokedKeys: list.revoked })).ok,
      ).toBe(true);
      expect(
        await custody.keys.rotate(ws, exporter).catch((e: unknown) => (isCustosError(e) ? e.code : e)),
      ).toBe('CUSTODY_ARCHIVE_DENIED');
      await custody.keys.revoke(ws, old.keyId, 'laptop stolen', admin);
      list = parseKeyList(await custody.keys.keyList(ws));
      const report = await verifyBundleFile(old.path, {
        trustedKeys: list.trusted,
        revokedKeys: list.revoked,
      });
      const failed = report.checks.filter((c) => c.status === 'fail');
      expect(failed.map((c) => c.code)).toEqual(['CUSTODY_KEY_UNTRUSTED', 'CUSTODY_KEY_REVOKED']);
      expect(failed[1]?.detail).toMatch(/was revoked at/);
      expect(
        (await verifyBundleFile(fresh.path, { trustedKeys: list.trusted, revokedKeys: list.revoked })).ok,
      ).toBe(true);
      // Revoking the active key makes a new active one.
      await custody.keys.revoke(ws, String(rotated.version), 'rotation drill', admin);
      const keys = await custody.keys.list(ws);
      expect(keys.map((k) => k.state)).toEqual(['active', 'revoked', 'revoked']);
    });

    it('encrypts to age recipients from the definition and the caller', async () => {
      const key = join(dir, 'auditor.key');
      execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
      const recipient = execFileSync('age-keygen', ['-y', key], { encoding: 'utf8' }).trim();
      const r = await createExport(ctx, {
        definition: 'regulator-customers',
        out: join(dir, 'enc.age'),
        caller: exporter,
        recipients: [recipient],
      });
      expect(r.encrypted).toBe(true);
      const tar = execFileSync('age', ['-d', '-i', key, r.path], { maxBuffer: 1 << 26 });
      expect(tar.subarray(0, 9).toString()).toBe('bagit.txt');
    });
  });
}

describe('export with a time-stamp authority configured', () => {
  let t: TestStore;
  let ledgers: Ledgers;
  let tsa: Tsa;
  beforeAll(async () => {
    tsa = await startTsa();
    t = await createTestStore('sqlite');
    // The ledger's own background time-stamping runs too; the bundle must not wait for it.
    ledgers = openLedgers(t.store, { tsaUrl: tsa.url });
  });
  afterAll(async () => {
    await ledgers.close();
    await t.cleanup();
    await tsa.close();
  });

  it('stamps the checkpoint the bundle proves against when the ledger has no token for it yet', async () => {
    await addWorkspace(t.store, 'stamped');
    const dir = mkdtempSync(join(root, 'tsa-'));
    const host = {
      store: t.store,
      root: testRoot(),
      audit: ledgers.auditSink,
      ledgers,
      paths: { dataDir: dir },
    };
    const custody = openCustody(host, {
      archiveBackend: 'fs',
      archiveDir: join(dir, 'archive'),
      scrubSample: 0.1,
    });
    await custody.definitions.save('stamped', DEFINITION, admin);
    const r = await createExport(
      {
        workspaceId: 'stamped',
        store: t.store,
        ledgers,
        audit: ledgers.auditSink,
        keys: custody.keys,
        definitions: custody.definitions,
        archive: custody.archive,
        records: memorySource({
          customer: { c1: { name: 'A', email: 'a@example.test', ssn: '1', score: 1 } },
        }),
      },
      { definition: 'regulator-customers', out: join(dir, 'stamped.tar'), caller: exporter },
    );
    const list = parseKeyList(await custody.keys.keyList('stamped'));
    const report = await verifyBundleFile(r.path, { trustedKeys: list.trusted, revokedKeys: list.revoked });
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(report.checks.find((c) => c.id === 'timestamp')).toMatchObject({
      status: 'pass',
      detail: expect.stringContaining('Custos Test TSA') as unknown,
    });
    // The ledger holds the same token for that checkpoint.
    const doc = get(await unpack(r.path), FILES.ledgerProof).toString();
    const stored = await ledgers.store.timestamps('stamped');
    expect(stored.some((s) => doc.includes(s.token.toString('base64')))).toBe(true);
  });
});
