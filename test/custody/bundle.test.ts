import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateIdentity, parseIdentity, parseRecipient } from '../../src/custody/age/index.ts';
import { FILES } from '../../src/custody/bundle/layout.ts';
import { parseLedgerProof } from '../../src/custody/bundle/ledger-proof.ts';
import { closeDigestWorkers } from '../../src/custody/digest/dual-digest.ts';
import { createPayloadPool } from '../../src/custody/bundle/ndjson.ts';
import { parseEnvelope } from '../../src/custody/dsse/index.ts';
import { DEFAULT_LIMITS } from '../../src/custody/limits.ts';
import type { CheckResult, VerifyReport } from '../../src/custody/verify/report.ts';
import { verifyBundleFile, type VerifyBundleOptions } from '../../src/custody/verify/verify-bundle.ts';
import { checkpointDigest, formatTlogProof, parseTlogProof } from '../../src/ledger/index.ts';
import { fetchToken, startTsa, type Tsa } from './helpers/tsa.ts';
import { encodeLedgerProof } from '../../src/custody/bundle/ledger-proof.ts';
import { makeBundle, sampleRecords, testKey } from './helpers/bundles.ts';
import { MemoryLedger } from './helpers/memory-ledger.ts';
import { rawTar } from './helpers/raw-tar.ts';
import { drop, flip, get, pack, put, retag, unpack, type Files } from './helpers/tamper.ts';

const dir = mkdtempSync(join(tmpdir(), 'custos-bundle-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await closeDigestWorkers();
});

function failures(r: VerifyReport): CheckResult[] {
  return r.checks.filter((c) => c.status === 'fail');
}

function primary(r: VerifyReport): string {
  const f = failures(r)[0];
  return f === undefined ? 'none' : `${f.id} ${f.code ?? ''} ${f.detail ?? ''}`;
}

/** Every failed check, one per line: what the verifier reports. */
function reported(r: VerifyReport): string {
  return failures(r)
    .map((f) => `${f.id} ${f.code ?? ''} ${f.detail ?? ''}`)
    .join('\n');
}

describe('export bundle', () => {
  it('verifies offline with every check passing', async () => {
    const b = await makeBundle(dir, 'ok.tar');
    const r = await verifyBundleFile(b.path, { trustedKeys: [b.key.publicKey] });
    expect(failures(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.exportId).toBe(b.exportId);
    const ids = r.checks.filter((c) => c.status === 'pass').map((c) => c.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'archive',
        'bagit',
        'manifest-sha256',
        'manifest-sha512',
        'payload-listed',
        'payload-oxum',
        'tagmanifest-sha256',
        'tagmanifest-sha512',
        'layout',
        'bag-info',
        'signature',
        'subjects',
        'signed-tag-files',
        'key-trusted',
        'key-not-revoked',
        'provenance',
        'ledger-inclusion',
        'ledger-entry',
      ]),
    );
    expect(r.checks.find((c) => c.id === 'checkpoint-consistency')?.status).toBe('skip');
  });

  it('lays out a BagIt 1.0 bag with RFC 8785 NDJSON payload that GNU tar lists', async () => {
    const b = await makeBundle(dir, 'layout.tar', { records: sampleRecords(3) });
    const files = await unpack(b.path);
    expect(files.map(([n]) => n)).toEqual([
      'bagit.txt',
      'data/records.ndjson',
      'manifest-sha256.txt',
      'manifest-sha512.txt',
      'bag-info.txt',
      'metadata/export-key.pem',
      'metadata/provenance.jsonld',
      'metadata/attestation.dsse.json',
      'metadata/ledger-proof.json',
      'tagmanifest-sha256.txt',
      'tagmanifest-sha512.txt',
    ]);
    expect(get(files, 'bagit.txt').toString()).toBe(
      'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n',
    );
    const lines = get(files, FILES.records).toString().split('\n');
    const name = createHash('sha256').update('x0').digest('hex').slice(0, 6);
    expect(lines[0]).toBe(
      `{"data":{"email":"u0@example.test","name":"Name ${name}","score":0,"tags":["a","b"],"zip":null},"id":"r000000","type":"customer"}`,
    );
    const info = get(files, FILES.bagInfo).toString();
    for (const label of [
      'Source-Organization: Acme Test Org',
      'Bagging-Date: ',
      'Payload-Oxum: ',
      'Bag-Software-Agent: ',
      `Custos-Export-Id: ${b.exportId}`,
      'Custos-Output-Schema-Version: 1',
    ]) {
      expect(info).toContain(label);
    }
    const prov = JSON.parse(get(files, FILES.provenance).toString()) as { '@context': { prov: string } };
    expect(prov['@context'].prov).toBe('http://www.w3.org/ns/prov#');
    expect(execFileSync('tar', ['-tf', b.path], { encoding: 'utf8' }).split('\n')).toContain(
      'metadata/attestation.dsse.json',
    );
  });

  it('is deterministic: the same records give byte-identical payload and manifests', async () => {
    const recs = sampleRecords(500, 'det');
    const a = await unpack((await makeBundle(dir, 'det-a.tar', { records: recs })).path);
    // One written from the export's chunk pool (hashed in place), one from fresh buffers.
    const b = await unpack(
      (await makeBundle(dir, 'det-b.tar', { records: recs, key: testKey(), pooled: false })).path,
    );
    for (const name of [FILES.records, FILES.manifest256, FILES.manifest512])
      expect(get(a, name).equals(get(b, name))).toBe(true);
    expect(get(a, FILES.bagInfo).equals(get(b, FILES.bagInfo))).toBe(false); // export id and dates differ
  });

  it('stops when aborted mid-payload: no file left, every payload chunk given back', async () => {
    const pool = createPayloadPool();
    const free = pool.freeCount;
    let checks = 0;
    // Aborts at the fourth payload chunk, with earlier chunks still queued to be hashed and written.
    const signal = {
      throwIfAborted: () => {
        if (++checks > 3) throw new DOMException('The export was cancelled', 'AbortError');
      },
    } as unknown as AbortSignal;
    await expect(
      makeBundle(dir, 'aborted.tar', { records: sampleRecords(60_000, 'abort'), pool, signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(checks).toBe(4);
    expect(readdirSync(dir).some((f) => f.includes('aborted'))).toBe(false);
    // Chunks still being read by the hashing workers come back as the workers finish them.
    await vi.waitFor(() => {
      expect(pool.freeCount).toBe(free);
    });
  });

  it('refuses records out of order, which would break determinism', async () => {
    const recs = sampleRecords(3).reverse();
    await expect(makeBundle(dir, 'unordered.tar', { records: recs })).rejects.toMatchObject({
      code: 'CUSTODY_DEFINITION_INVALID',
    });
    expect(readdirSync(dir).some((f) => f.includes('unordered'))).toBe(false);
  });

  it('is encrypted with age so the stock CLI decrypts it, and verifies with --identity', async () => {
    const key = join(dir, 'auditor.key');
    execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', key], { encoding: 'utf8' }).trim();
    const b = await makeBundle(dir, 'enc.tar.age', {
      recipients: [parseRecipient(recipient)],
      records: sampleRecords(2000),
    });
    const tarBytes = execFileSync('age', ['-d', '-i', key, b.path], { maxBuffer: 1 << 26 });
    const plain = join(dir, 'enc-decrypted.tar');
    writeFileSync(plain, tarBytes);
    const trusted = { trustedKeys: [b.key.publicKey] };
    expect((await verifyBundleFile(plain, trusted)).ok).toBe(true);
    const ids = [
      parseIdentity(
        readFileSync(key, 'utf8')
          .split('\n')
          .find((l) => l.startsWith('AGE-SECRET-KEY-')) ?? '',
      ),
    ];
    const r = await verifyBundleFile(b.path, { ...trusted, identities: ids });
    expect(failures(r)).toEqual([]);
    expect(r.encrypted).toBe(true);
    const noId = await verifyBundleFile(b.path, trusted);
    expect(primary(noId)).toMatch(/^decrypt CUSTODY_BUNDLE_ENCRYPTED/);
    const wrongId = await verifyBundleFile(b.path, {
      ...trusted,
      identities: [parseIdentity(generateIdentity().identity)],
    });
    expect(primary(wrongId)).toMatch(/^decrypt CUSTODY_AGE_NO_MATCH/);
    const cut = join(dir, 'enc-cut.tar.age');
    const ct = readFileSync(b.path);
    writeFileSync(cut, ct.subarray(0, ct.length - 100));
    expect(primary(await verifyBundleFile(cut, { ...trusted, identities: ids }))).toMatch(
      /^decrypt CUSTODY_AGE_PAYLOAD_INVALID/,
    );
  });

  describe('RFC 3161 time-stamp of the checkpoint', () => {
    let tsa: Tsa;
    beforeAll(async () => {
      tsa = await startTsa();
    });
    afterAll(async () => {
      await tsa.close();
    });

    async function stamped(): Promise<{
      b: Awaited<ReturnType<typeof makeBundle>>;
      files: Files;
      doc: ReturnType<typeof parseLedgerProof>;
    }> {
      const b = await makeBundle(dir, `ts-${Math.random().toString(36).slice(2)}.tar`);
      const files = await unpack(b.path);
      const doc = parseLedgerProof(get(files, FILES.ledgerProof));
      return { b, files, doc };
    }

    it('passes with a token over the bundle checkpoint', async () => {
      const { b, files, doc } = await stamped();
      const token = await fetchToken(tsa.url, checkpointDigest(parseTlogProof(doc.tlogProof).checkpoint));
      const path = join(dir, 'ts-ok.tar');
      await pack(path, retag(put(files, FILES.ledgerProof, encodeLedgerProof({ ...doc, timestamp: token }))));
      const r = await verifyBundleFile(path, { trustedKeys: [b.key.publicKey] });
      expect(failures(r)).toEqual([]);
      expect(r.checks.find((c) => c.id === 'timestamp')).toMatchObject({
        status: 'pass',
        detail: expect.stringContaining('Custos Test TSA') as unknown,
      });
    });

    it('fails with a token over another checkpoint, or a malformed token', async () => {
      const { b, files, doc } = await stamped();
      const other = await fetchToken(tsa.url, checkpointDigest(new MemoryLedger().checkpoint(0)));
      const path = join(dir, 'ts-swapped.tar');
      await pack(path, retag(put(files, FILES.ledgerProof, encodeLedgerProof({ ...doc, timestamp: other }))));
      expect(reported(await verifyBundleFile(path, { trustedKeys: [b.key.publicKey] }))).toMatch(
        /^timestamp CUSTODY_TIMESTAMP_INVALID .*another checkpoint/,
      );
      await pack(
        path,
        retag(
          put(files, FILES.ledgerProof, encodeLedgerProof({ ...doc, timestamp: Buffer.from('garbage') })),
        ),
      );
      expect(reported(await verifyBundleFile(path, { trustedKeys: [b.key.publicKey] }))).toMatch(
        /^timestamp CUSTODY_TIMESTAMP_INVALID/,
      );
    });
  });

  it('checks consistency with a checkpoint the auditor brings', async () => {
    const ledger = new MemoryLedger();
    const b = await makeBundle(dir, 'cp.tar', { ledger });
    const size = parseTlogProofSize(b.path, await unpack(b.path));
    for (let i = 0; i < 5; i++)
      ledger.append({
        time: new Date().toISOString(),
        actor: ledger.actor,
        action: 'custody.verified',
        resource: { kind: 'export', id: 'x' },
        outcome: 'success',
      });
    const later = ledger.checkpoint();
    const opts: VerifyBundleOptions = { trustedKeys: [b.key.publicKey], checkpoint: later };
    const noProof = await verifyBundleFile(b.path, opts);
    expect(primary(noProof)).toMatch(
      /^checkpoint-consistency CUSTODY_CHECKPOINT_INCONSISTENT .*consistency-proof/,
    );
    const ok = await verifyBundleFile(b.path, {
      ...opts,
      consistencyProof: ledger.consistency(size, ledger.leaves.length),
    });
    expect(failures(ok)).toEqual([]);
    expect(ok.checks.find((c) => c.id === 'checkpoint-consistency')?.status).toBe('pass');
    const bad = await verifyBundleFile(b.path, {
      ...opts,
      consistencyProof: ledger.consistency(size, ledger.leaves.length).map((h) => flip(h, 0)),
    });
    expect(primary(bad)).toMatch(/^checkpoint-consistency CUSTODY_CHECKPOINT_INCONSISTENT/);
    const forked = new MemoryLedger('acme');
    const foreign = await verifyBundleFile(b.path, { ...opts, checkpoint: forked.checkpoint() });
    expect(primary(foreign)).toMatch(/^checkpoint-consistency CUSTODY_CHECKPOINT_INVALID/);
  });
});

function parseTlogProofSize(_path: string, files: Files): number {
  const doc = parseLedgerProof(get(files, FILES.ledgerProof));
  const cp = parseTlogProof(doc.tlogProof).checkpoint;
  return Number(cp.split('\n')[1]);
}

describe('tamper matrix: every change is detected, each with its own reason', async () => {
  const base = await makeBundle(dir, 'base.tar', { records: sampleRecords(200) });
  const other = await makeBundle(dir, 'other.tar', { key: base.key, records: sampleRecords(10, 'other') });
  const files = await unpack(base.path);
  const trust: VerifyBundleOptions = { trustedKeys: [base.key.publicKey] };
  const cases: [string, () => Files | Promise<Files>, RegExp, VerifyBundleOptions?][] = [];
  for (const [name] of files) {
    // Each failure names the altered file; the set of failures tells the cases apart.
    const expected = new RegExp(`^[a-z0-9-]+ CUSTODY_[A-Z_]+ .*${name.replaceAll('.', '\\.')}`);
    cases.push([`flip a byte in ${name}`, () => put(files, name, flip(get(files, name))), expected]);
  }
  cases.push(
    [
      'drop the payload file',
      () => drop(files, FILES.records),
      /^manifest-sha256 CUSTODY_FILE_MISSING .*records/,
    ],
    [
      'drop the provenance record',
      () => drop(files, FILES.provenance),
      /^tagmanifest-sha256 CUSTODY_FILE_MISSING .*provenance/,
    ],
    [
      'drop the ledger proof (tag manifests recomputed)',
      () => retag(drop(files, FILES.ledgerProof)),
      /^ledger-inclusion CUSTODY_FILE_MISSING/,
    ],
    [
      'add an unlisted payload file',
      () => put(files, 'data/extra.ndjson', Buffer.from('{}\n')),
      /^payload-listed CUSTODY_FILE_UNLISTED .*extra\.ndjson/,
    ],
    [
      'add an unlisted tag file',
      () => put(files, 'metadata/extra.json', Buffer.from('{}')),
      /^layout CUSTODY_FILE_UNLISTED .*extra\.json is not listed/,
    ],
    [
      'add a tag file and list it',
      () => retag(put(files, 'metadata/extra.json', Buffer.from('{}'))),
      /^layout CUSTODY_FILE_UNLISTED .*not part of the bundle layout/,
    ],
    [
      'swap the signature for another bundle’s',
      async () => {
        const theirs = parseEnvelope(get(await unpack(other.path), FILES.attestation)).envelope;
        const ours = parseEnvelope(get(files, FILES.attestation)).envelope;
        return retag(
          put(
            files,
            FILES.attestation,
            Buffer.from(JSON.stringify({ ...ours, signatures: theirs.signatures })),
          ),
        );
      },
      /^signature CUSTODY_SIGNATURE_INVALID/,
    ],
    [
      'sign with another key',
      async () => {
        const mallory = await makeBundle(dir, 'mallory.tar', { records: sampleRecords(200) });
        const m = await unpack(mallory.path);
        return retag(
          put(
            put(files, FILES.attestation, get(m, FILES.attestation)),
            FILES.exportKey,
            get(m, FILES.exportKey),
          ),
        );
      },
      /^subjects CUSTODY_SUBJECT_MISMATCH|^signed-tag-files/,
    ],
    [
      'replace the payload and every unsigned manifest',
      () => {
        const data = Buffer.from(
          get(files, FILES.records).toString().replace('u1@example.test', 'u1@exampel.test'),
        );
        const out = put(files, FILES.records, data);
        const m256 = Buffer.from(`${sha(data, 'sha256')}  data/records.ndjson\n`);
        const m512 = Buffer.from(`${sha(data, 'sha512')}  data/records.ndjson\n`);
        return retag(put(put(out, FILES.manifest256, m256), FILES.manifest512, m512));
      },
      /^subjects CUSTODY_SUBJECT_MISMATCH/,
    ],
    [
      'rewrite provenance and the tag manifests',
      () => retag(put(files, FILES.provenance, flip(get(files, FILES.provenance), 10))),
      /^signed-tag-files CUSTODY_TAG_DIGEST_MISMATCH .*provenance/,
    ],
    [
      'change bag-info and the tag manifests',
      () =>
        retag(
          put(
            files,
            FILES.bagInfo,
            Buffer.from(get(files, FILES.bagInfo).toString().replace('Acme Test Org', 'Evil Org')),
          ),
        ),
      /^signed-tag-files CUSTODY_TAG_DIGEST_MISMATCH .*bag-info/,
    ],
    [
      'replace the proof with one for another entry',
      () => {
        const doc = parseLedgerProof(get(files, FILES.ledgerProof));
        const index = parseTlogProof(doc.tlogProof).index;
        return retag(put(files, FILES.ledgerProof, base.ledger.proofFor(index - 1)));
      },
      /^ledger-entry CUSTODY_LEDGER_ENTRY_MISMATCH .*another export/,
    ],
    [
      'swap the entry under a valid proof',
      () => {
        const doc = parseLedgerProof(get(files, FILES.ledgerProof));
        const index = parseTlogProof(doc.tlogProof).index;
        return retag(
          put(
            files,
            FILES.ledgerProof,
            encodeLedgerProof({ ...doc, entry: base.ledger.entries[index - 1]! }),
          ),
        );
      },
      /^ledger-inclusion CUSTODY_LEDGER_PROOF_INVALID/,
    ],
    [
      'prove against a checkpoint signed by another key',
      () => {
        const doc = parseLedgerProof(get(files, FILES.ledgerProof));
        const p = parseTlogProof(doc.tlogProof);
        const forged = new MemoryLedger('acme');
        for (const e of base.ledger.entries)
          forged.leaves.push(base.ledger.leaves[base.ledger.entries.indexOf(e)]!);
        return retag(
          put(
            files,
            FILES.ledgerProof,
            encodeLedgerProof({
              ...doc,
              tlogProof: formatTlogProof({
                ...p,
                checkpoint: forged.checkpoint(Number(p.checkpoint.split('\n')[1])),
              }),
            }),
          ),
        );
      },
      /^ledger-inclusion CUSTODY_CHECKPOINT_INVALID/,
    ],
    [
      'use a revoked key',
      () => files,
      /^key-not-revoked CUSTODY_KEY_REVOKED .*revoked at 2030-01-01/,
      { ...trust, revokedKeys: [{ keyId: base.key.keyId, revokedAt: '2030-01-01T00:00:00Z' }] },
    ],
    [
      'use an untrusted key',
      () => files,
      /^key-trusted CUSTODY_KEY_UNTRUSTED/,
      { trustedKeys: [testKey().publicKey] },
    ],
  );

  const seen = new Map<string, string>();
  for (const [title, make, expected, options] of cases) {
    it(title, async () => {
      const path = join(dir, `t-${seen.size}-${title.replace(/[^a-z0-9]+/gi, '-')}.tar`);
      seen.set(title, path);
      await pack(path, await make());
      const r = await verifyBundleFile(path, options ?? trust);
      expect(r.ok).toBe(false);
      const reason = reported(r);
      // Some reported failure carries the expected check, code and reason.
      expect(
        reason.split('\n').some((line) => expected.test(line)),
        reason,
      ).toBe(true);
      for (const [t, other] of reasons) if (t !== title) expect(other, `${title} vs ${t}`).not.toBe(reason);
      reasons.set(title, reason);
    });
  }
  const reasons = new Map<string, string>();
});

function sha(data: Buffer, alg: 'sha256' | 'sha512'): string {
  return execFileSync(`${alg}sum`, { input: data, encoding: 'utf8' }).split(' ')[0] ?? '';
}

describe('hostile bundles given to verify are refused without writing anything', () => {
  const hostile: [string, () => Buffer, RegExp][] = [
    [
      'path traversal',
      () => rawTar([{ name: '../../evil.txt', data: Buffer.from('x') }]),
      /^archive CUSTODY_TAR_UNSAFE_ENTRY/,
    ],
    [
      'absolute path',
      () => rawTar([{ name: '/tmp/custos-evil.txt', data: Buffer.from('x') }]),
      /^archive CUSTODY_TAR_UNSAFE_ENTRY/,
    ],
    [
      'symlink',
      () => rawTar([{ name: 'data/link', type: '2', linkname: '/etc/passwd' }]),
      /^archive CUSTODY_TAR_UNSAFE_ENTRY .*symbolic link/,
    ],
    [
      'hard link',
      () => rawTar([{ name: 'data/link', type: '1', linkname: '/etc/passwd' }]),
      /^archive CUSTODY_TAR_UNSAFE_ENTRY .*hard link/,
    ],
    [
      'duplicate names',
      () =>
        rawTar([
          { name: 'bagit.txt', data: Buffer.from('a') },
          { name: 'bagit.txt', data: Buffer.from('b') },
        ]),
      /^archive CUSTODY_TAR_DUPLICATE_ENTRY/,
    ],
    [
      'too many entries',
      () =>
        rawTar(
          Array.from({ length: DEFAULT_LIMITS.maxEntries + 1 }, (_, i) => ({
            name: `data/f${i}`,
            data: Buffer.from('1'),
          })),
        ),
      /^archive CUSTODY_TAR_LIMIT_EXCEEDED .*entries/,
    ],
    [
      'a huge manifest line',
      () =>
        rawTar([
          {
            name: 'bagit.txt',
            data: Buffer.from('BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n'),
          },
          {
            name: 'manifest-sha256.txt',
            data: Buffer.from(`${'a'.repeat(64)}  data/${'x'.repeat(200_000)}\n`),
          },
        ]),
      /^manifest-sha256 CUSTODY_MANIFEST_INVALID .*longer than/,
    ],
    [
      'not a tar at all',
      () => Buffer.from('hello world, this is not an archive'.repeat(40)),
      /^archive CUSTODY_TAR_INVALID/,
    ],
    ['an empty file', () => Buffer.alloc(0), /^archive CUSTODY_TAR_INVALID/],
  ];
  for (const [title, make, expected] of hostile) {
    it(`refuses ${title}`, async () => {
      const sub = mkdtempSync(join(dir, 'hostile-'));
      const path = join(sub, 'bundle.tar');
      writeFileSync(path, make());
      const r = await verifyBundleFile(path, {});
      expect(r.ok).toBe(false);
      expect(primary(r)).toMatch(expected);
      expect(readdirSync(sub)).toEqual(['bundle.tar']);
      expect(existsSync(join(dir, 'evil.txt'))).toBe(false);
      expect(existsSync('/tmp/custos-evil.txt')).toBe(false);
    });
  }
});
