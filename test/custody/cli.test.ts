import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDigestWorkers } from '../../src/custody/index.ts';
import { parseDataSchema, RecordStore } from '../../src/privacy/index.ts';
import { openHost } from '../../src/host/index.ts';
import { cli, EXAMPLE_RECORDS, installWithExampleRecords, tempDataDir } from '../helpers/cli.ts';
import { rawTar } from './helpers/raw-tar.ts';
import { flip, get, pack, put, unpack } from './helpers/tamper.ts';
import { FILES } from '../../src/custody/bundle/layout.ts';

const work = mkdtempSync(join(tmpdir(), 'custos-custody-cli-'));
let data: string;
let bundle: string;
let sha: string;

const SCHEMA = `
type: employee
subject: email
fields:
  email: {classification: confidential, category: email, index: true}
  name: {classification: restricted, category: name}
  dept: {classification: internal}
  address:
    fields:
      city: {classification: confidential, category: address}
`;
const EMAILS = ['ada.lovelace@example.org', 'grace.hopper@example.org', 'alan.turing@example.org'];
const NAMES = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'];

beforeAll(async () => {
  data = tempDataDir();
  expect((await cli(['--data', data, 'init', '--json'])).code).toBe(0);
  const host = await openHost({ dataDir: data, env: {} });
  try {
    const records = new RecordStore({ store: host.store, keyring: host.keyring, audit: host.audit });
    const lines = EMAILS.map((email, i) =>
      JSON.stringify({
        id: `e-${i + 1}`,
        email,
        name: NAMES[i],
        dept: 'R&D',
        address: { city: `City ${i}` },
      }),
    );
    await records.importNdjson('default', parseDataSchema(SCHEMA), lines.join('\n'), host.localActor);
  } finally {
    await host.close();
  }
  const def = join(work, 'def.yaml');
  writeFileSync(
    def,
    [
      'name: staff',
      'outputSchemaVersion: 1',
      'records:',
      '  - type: employee',
      '    fields:',
      '      email: {treatment: clear, fallback: tokenize}',
      '      name: tokenize',
      '      dept: clear',
      '      address.city: mask',
      'triggeredBy: [admin]',
      'purpose: quarterly audit',
      'retentionDays: 0',
      'sourceOrganization: Acme',
    ].join('\n'),
  );
  const defined = await cli(['--data', data, 'export', 'define', def]);
  expect(defined.stderr).toBe('');
  expect(defined.stdout).toMatch(/^Saved export definition staff version 1 \(sha256:[0-9a-f]{64}\)\.$/m);
  bundle = join(work, 'staff.tar');
  const created = await cli([
    '--data',
    data,
    'export',
    'create',
    '--definition',
    'staff',
    '--out',
    bundle,
    '--json',
  ]);
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
  sha = (JSON.parse(created.stdout) as { bundleSha256: string }).bundleSha256;
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  rmSync(join(data, '..'), { recursive: true, force: true });
  await closeDigestWorkers();
});

describe('custos export / verify / archive', () => {
  it('export create reads the record store: tokens and masks without --reveal, clear values with it', async () => {
    const payload = get(await unpack(bundle), FILES.records).toString();
    const lines = payload
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; type: string; data: Record<string, string> });
    expect(lines.map((l) => l.id)).toEqual(['e-1', 'e-2', 'e-3']);
    expect(lines[0]?.data.dept).toBe('R&D');
    expect(lines[0]?.data.email).toMatch(/^dt1_/);
    expect(lines[0]?.data.name).toMatch(/^dt1_/);
    expect(lines[0]?.data['address.city']).not.toBe('City 0');
    for (const secret of [...EMAILS, ...NAMES]) expect(payload).not.toContain(secret);
    const revealed = join(work, 'revealed.tar');
    const r = await cli([
      '--data',
      data,
      'export',
      'create',
      '--definition',
      'staff',
      '--out',
      revealed,
      '--reveal',
      '--purpose',
      'court order 7',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Export exp-\S+ written to /);
    const clear = get(await unpack(revealed), FILES.records).toString();
    expect(clear).toContain(EMAILS[0]);
    expect(clear).not.toContain(NAMES[0]);
    // Deterministic tokens: the same value gets the same token in both exports.
    expect((JSON.parse(clear.split('\n')[0]!) as { data: { name: string } }).data.name).toBe(
      lines[0]?.data.name,
    );
    // Nothing classified reached the ledger.
    const host = await openHost({ dataDir: data, env: {} });
    try {
      const entries = await host.store.db.selectFrom('ledger_entries').select('entry').execute();
      const text = entries.map((e) => Buffer.from(e.entry).toString('utf8')).join('\n');
      expect(text).toContain('custody.produced');
      for (const secret of [...EMAILS, ...NAMES]) expect(text).not.toContain(secret);
    } finally {
      await host.close();
    }
  });

  it('export key prints the PEM key, --list the key list', async () => {
    const pem = await cli(['--data', data, 'export', 'key']);
    expect(pem.code).toBe(0);
    expect(pem.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
    const list = await cli(['--data', data, 'export', 'key', '--list']);
    expect(JSON.parse(list.stdout)).toMatchObject({
      format: 'custos.export-keys/v1',
      workspace: 'default',
      keys: [{ state: 'active', version: 1 }],
    });
    const defs = await cli(['--data', data, 'export', 'definitions']);
    expect(defs.stdout).toMatch(/^staff@v1 {2}sha256:/);
  });

  it('verify prints one line per check and exits 0 only when all pass', async () => {
    const pem = join(work, 'export.pem');
    writeFileSync(pem, (await cli(['--data', data, 'export', 'key'])).stdout);
    const ok = await cli(['verify', bundle, '--trusted-key', pem]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('✓')).length).toBeGreaterThanOrEqual(17);
    expect(lines.some((l) => l.startsWith('✗'))).toBe(false);
    expect(lines.at(-1)).toMatch(/^VERIFIED export exp-/);
    expect(ok.stdout).toMatch(
      /^✓ ledger inclusion proof against the signed checkpoint \(entry \d+ of \d+ in localhost\/custos\/default\)$/m,
    );

    const untrusted = await cli(['verify', bundle]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toMatch(
      /^✗ signing key is trusted — CUSTODY_KEY_UNTRUSTED: no trusted keys given/m,
    );
    expect(untrusted.stderr).toMatch(/^error CUSTODY_KEY_UNTRUSTED: Bundle did not verify/);

    const tampered = join(work, 'tampered.tar');
    const files = await unpack(bundle);
    await pack(tampered, put(files, FILES.records, flip(get(files, FILES.records))));
    const bad = await cli(['verify', tampered, '--trusted-key', pem, '--json']);
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout) as {
      ok: boolean;
      checks: { id: string; status: string; code?: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.id === 'manifest-sha256')).toMatchObject({
      status: 'fail',
      code: 'CUSTODY_MANIFEST_MISMATCH',
    });
    expect(JSON.parse(bad.stderr)).toMatchObject({ code: 'CUSTODY_MANIFEST_MISMATCH', status: 400 });

    const keyList = join(work, 'keys.json');
    writeFileSync(keyList, (await cli(['--data', data, 'export', 'key', '--list'])).stdout);
    expect((await cli(['verify', bundle, '--key-list', keyList])).code).toBe(0);
  });

  it('a hostile bundle is refused by a separate verify process that writes nothing', () => {
    const dir = mkdtempSync(join(work, 'hostile-'));
    const file = join(dir, 'evil.tar');
    writeFileSync(
      file,
      rawTar([
        { name: '../../../tmp/custos-pwned', data: Buffer.from('x') },
        { name: 'data/link', type: '2', linkname: '/etc/passwd' },
      ]),
    );
    const r = spawnSync(
      process.execPath,
      [join(import.meta.dirname, '../../src/cli/main.ts'), 'verify', file],
      { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH } },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(
      /^✗ archive is a safe POSIX ustar — CUSTODY_TAR_UNSAFE_ENTRY: Archive entry is refused: parent directory component/m,
    );
    expect(readdirSync(dir)).toEqual(['evil.tar']);
    expect(() => readFileSync('/tmp/custos-pwned')).toThrow();
  });

  it('archive list, hold, release, delete (two admins) and scrub', async () => {
    const list = await cli(['--data', data, 'archive', 'list', '--json']);
    const entries = JSON.parse(list.stdout) as { sha256: string }[];
    expect(entries.map((e) => e.sha256)).toContain(sha);
    expect((await cli(['--data', data, 'archive', 'hold', sha, '--reason', 'litigation'])).code).toBe(0);
    const held = await cli(['--data', data, 'archive', 'delete', sha]);
    expect(held.code).toBe(1);
    expect(held.stderr).toMatch(/CUSTODY_LEGAL_HOLD/);
    expect((await cli(['--data', data, 'archive', 'release', sha])).code).toBe(0);
    const requested = await cli(['--data', data, 'archive', 'delete', sha]);
    expect(requested.stdout).toMatch(/another admin must run/);
    const self = await cli(['--data', data, 'archive', 'delete', sha, '--approve']);
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/CUSTODY_SAME_APPROVER/);
    const scrub = await cli(['--data', data, 'archive', 'scrub', '--all']);
    expect(scrub.code).toBe(0);
    expect(scrub.stdout).toMatch(/^Scrubbed 2 bundle\(s\): 2 intact, 0 problem\(s\), 0 repaired\.$/m);
    const out = join(work, 'copy.tar');
    expect((await cli(['--data', data, 'archive', 'get', sha, '--out', out])).code).toBe(0);
    expect(readFileSync(out).equals(readFileSync(bundle))).toBe(true);
  });

  it('archive verify checks an archived bundle against the installation keys; deliver records the handover', async () => {
    const verified = await cli(['--data', data, 'archive', 'verify', sha]);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^✓ /m);
    expect(verified.stdout).not.toMatch(/^✗ /m);
    const bad = await cli(['--data', data, 'archive', 'deliver', sha, '--to', 'ada@example.com']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/INPUT_INVALID.*recipient/);
    const delivered = await cli([
      '--data',
      data,
      'archive',
      'deliver',
      sha,
      '--to',
      'regulator-bafin',
      '--channel',
      'portal',
      '--json',
    ]);
    expect(delivered.code).toBe(0);
    expect(JSON.parse(delivered.stdout)).toMatchObject({ sha256: sha, delivered: true });
    const ledger = await cli(['--data', data, 'ledger', 'verify', '--ledger', 'default']);
    expect(ledger.code).toBe(0);
  });
});

describe('the README tour, export part', () => {
  it('defines, creates and verifies a bundle from the example records and definition', async () => {
    const tour = await installWithExampleRecords();
    const run = (argv: string[]) => cli(['--data', tour, ...argv]);
    expect((await run(['export', 'define', join(EXAMPLE_RECORDS, 'employee.export.yaml')])).code).toBe(0);
    const out = join(work, 'tour-bundle.tar');
    const created = await run([
      'export',
      'create',
      '--definition',
      'hr-audit',
      '--out',
      out,
      '--reveal',
      '--purpose',
      'audit 2026-11',
    ]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const key = await run(['export', 'key']);
    const pem = join(work, 'tour-key.pem');
    writeFileSync(pem, key.stdout);
    const verified = await cli(['verify', out, '--trusted-key', pem]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^VERIFIED /m);
    // Restricted values leave as tokens even with --reveal; the definition allows email in clear.
    const first = JSON.parse(
      get(await unpack(out), FILES.records)
        .toString()
        .split('\n')[0] ?? '{}',
    ) as {
      data: Record<string, string>;
    };
    expect(first.data.email).toBe('ada@example.com');
    expect(first.data.name).toMatch(/^dt1_/);
    expect(first.data.national_id).toMatch(/^dt1_/);
  });
});
