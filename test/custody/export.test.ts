import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  closeDigestWorkers,
  createExport,
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
    ids: (_ws, type) => Promise.resolve(Object.keys(records[type] ?? {}).reverse()),
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
