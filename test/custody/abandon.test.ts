// A stream that fails half-way through stops its hashing workers: the process exits by itself
// afterwards (a CLI run ends; a server's failed export leaks no thread). Each case runs in a child
// process that does nothing else, so a worker left running shows up as a process that never exits.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'custos-abandon-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const SRC = join(import.meta.dirname, '../../src');

/** Run `body` (ES module code with `src` bound to the source tree) in a fresh node; its exit and output. */
function child(name: string, body: string): Promise<{ code: number | null; out: string; timedOut: boolean }> {
  const file = join(dir, `${name}.mts`);
  writeFileSync(file, `const src = ${JSON.stringify(SRC)};\n${body}`);
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({
        code: err === null ? 0 : typeof err.code === 'number' ? err.code : null,
        out: `${stdout}${stderr}`,
        timedOut: err?.killed === true,
      });
    });
  });
}

/** Records of about 12 MiB of NDJSON, past the point where hashing moves to worker threads. */
const RECORDS = `
const big = [];
for (let i = 0; i < 60000; i++) big.push({ type: 't', id: String(i).padStart(8, '0'), data: { note: 'n'.repeat(200) } });
`;

const WRITE = `
const { writeBundle, encodeRecords, keyIdOf, createPayloadPool } = await import(src + '/custody/index.ts');
const { generateEd25519, ed25519PublicPem } = await import(src + '/crypto/index.ts');
const { privateKey, publicKey } = generateEd25519();
const write = (out, batches) => writeBundle({
  out, exportId: 'exp-x', workspace: 'w', sourceOrganization: 'O', startedAt: new Date().toISOString(),
  outputSchemaVersion: 1, definition: { name: 'd', version: 1, digest: 'sha256:00' }, purpose: 'p',
  actor: { kind: 'system', id: 't' }, recipients: [],
  // As the real export does: encoded into a chunk pool the hashing workers read in place.
  ...(() => { const pool = createPayloadPool(); return { payload: encodeRecords(batches, { pool }), payloadPool: pool }; })(),
  signer: { keyId: keyIdOf(publicKey), privateKey, publicKeyPem: ed25519PublicPem(publicKey) },
  ledger: { ledger: 'w', origin: 'o', verifierKey: 'k', anchor: () => Promise.resolve(Buffer.from('{}')) },
});
`;

describe('an unfinished stream stops its hashing workers', () => {
  it('when the export fails mid-payload', async () => {
    const r = await child(
      'export',
      `${RECORDS}${WRITE}
// In order for 12 MiB, then a record out of order: the export fails with hashing well under way.
async function* batches() { yield big; yield [{ type: 't', id: '0', data: {} }]; }
try { await write(${JSON.stringify(join(dir, 'failed.tar'))}, batches()); console.log('no error'); }
catch (err) { console.log('failed', err.code); }
`,
    );
    expect(r.out).toContain('failed CUSTODY_DEFINITION_INVALID');
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(0);
  });

  it('when a bundle given to verify breaks off mid-payload', async () => {
    const r = await child(
      'verify',
      `${RECORDS}${WRITE}
const { verifyBundleFile, closeDigestWorkers } = await import(src + '/custody/index.ts');
const { readFileSync, writeFileSync } = await import('node:fs');
const path = ${JSON.stringify(join(dir, 'whole.tar'))};
async function* batches() { yield big; }
await write(path, batches());
await closeDigestWorkers();
const cut = ${JSON.stringify(join(dir, 'cut.tar'))};
writeFileSync(cut, readFileSync(path).subarray(0, 10 * 1024 * 1024));
const report = await verifyBundleFile(cut, {});
console.log('ok', report.ok);
`,
    );
    expect(r.out).toContain('ok false');
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(0);
  });
});
