// The read-only tlog-tiles endpoints: auth by auditor/admin token (or a public ledger), byte-exact
// checkpoint, tiles and entry bundles that an independent client (below, written from the specs
// with node:crypto only) verifies, cache headers, and RFC 9457 problems for bad paths.
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initInstallation, openHost, type Host } from '../../src/host/index.ts';
import { issueToken } from '../../src/iam/index.ts';
import { buildApp } from '../../src/server/index.ts';
import { tempDataDir } from '../helpers/cli.ts';
import { testEvent } from './helpers.ts';

/* ---- an independent tlog-tiles client: RFC 6962 hashing and C2SP formats from the specs ---- */
const sha = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
const leafHash = (e: Buffer) => sha(Buffer.of(0), e);
const nodeHash = (l: Buffer, r: Buffer) => sha(Buffer.of(1), l, r);
function mth(hashes: Buffer[]): Buffer {
  if (hashes.length === 1) return hashes[0]!;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return nodeHash(mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}
function tileIndex(n: number): string {
  const parts: string[] = [];
  do {
    parts.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join('/');
}
function openCheckpointIndependently(
  note: string,
  vkey: string,
): { origin: string; size: number; root: Buffer } {
  const [name, idHex, keyB64] = [
    vkey.slice(0, vkey.indexOf('+')),
    vkey.split('+')[1]!,
    vkey.split('+').slice(2).join('+'),
  ];
  const key = Buffer.from(keyB64, 'base64');
  expect(key[0]).toBe(1);
  const id = sha(Buffer.from(`${name}\n`), key).subarray(0, 4);
  expect(id.toString('hex')).toBe(idHex);
  const split = note.lastIndexOf('\n\n');
  const text = note.slice(0, split + 1);
  const sigLine = note.slice(split + 2).split('\n')[0]!;
  expect(sigLine.startsWith(`— ${name} `)).toBe(true);
  const sig = Buffer.from(sigLine.slice(`— ${name} `.length), 'base64');
  expect(sig.subarray(0, 4).equals(id)).toBe(true);
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), key.subarray(1)]);
  const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  expect(verifySignature(null, Buffer.from(text), pub, sig.subarray(4))).toBe(true);
  const [origin, size, root] = text.split('\n');
  return { origin: origin!, size: Number(size), root: Buffer.from(root!, 'base64') };
}

describe('ledger HTTP endpoints', () => {
  let host: Host;
  let app: FastifyInstance;
  let admin: string;
  let auditor: string;
  let builder: string;
  let vkey: string;

  beforeAll(async () => {
    const data = tempDataDir();
    admin = (await initInstallation({ dataDir: data })).adminToken;
    host = await openHost({ dataDir: data, env: { CUSTOS_LEDGER_PUBLIC_LEDGERS: 'default,ghost' } });
    auditor = (
      await issueToken(host.store.db, { workspaceId: 'default', roles: ['auditor'], label: 'audit' })
    ).token;
    builder = (
      await issueToken(host.store.db, { workspaceId: 'default', roles: ['builder'], label: 'build' })
    ).token;
    await Promise.all(Array.from({ length: 300 }, (_, i) => host.audit.record('system', testEvent(i))));
    const ledger = await host.ledgers.open('system');
    await ledger.checkpoint();
    vkey = ledger.verifierKey;
    app = await buildApp({ host });
  });
  afterAll(async () => {
    await app.close();
    await host.close();
  });

  const get = (url: string, token?: string, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'GET',
      url,
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
    });

  it('needs an auditor or admin token unless the ledger is public', async () => {
    expect((await get('/ledger/system/checkpoint')).statusCode).toBe(401);
    const forbidden = await get('/ledger/system/checkpoint', builder);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.headers['content-type']).toContain('application/problem+json');
    expect((await get('/ledger/system/checkpoint', auditor)).statusCode).toBe(200);
    const res = await get('/ledger/system/checkpoint', admin);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    const publicOne = await get('/ledger/default/checkpoint');
    expect(publicOne.statusCode).toBe(200);
    expect(publicOne.body.startsWith('localhost/custos/default\n')).toBe(true);
  });

  it('serves tiles from which an independent client recomputes the signed root', async () => {
    const cp = openCheckpointIndependently((await get('/ledger/system/checkpoint', auditor)).body, vkey);
    expect(cp.origin).toBe('localhost/custos/system');
    const leaves: Buffer[] = [];
    for (let n = 0; n * 256 < cp.size; n++) {
      const width = Math.min(256, cp.size - n * 256);
      const suffix = width === 256 ? '' : `.p/${width}`;
      const tile = await get(`/ledger/system/tile/0/${tileIndex(n)}${suffix}`, auditor);
      expect(tile.statusCode).toBe(200);
      expect(tile.headers['content-type']).toBe('application/octet-stream');
      expect(tile.headers['cache-control']).toBe(
        width === 256 ? 'private, max-age=31536000, immutable' : 'no-store',
      );
      expect(tile.rawPayload.length).toBe(width * 32);
      const bundle = await get(`/ledger/system/tile/entries/${tileIndex(n)}${suffix}`, auditor, {
        'accept-encoding': 'gzip',
      });
      expect(bundle.headers['content-encoding']).toBe('gzip');
      const raw = gunzipSync(bundle.rawPayload);
      for (let at = 0, i = 0; at < raw.length; i++) {
        const len = raw.readUInt16BE(at);
        const entry = raw.subarray(at + 2, at + 2 + len);
        at += 2 + len;
        const h = leafHash(entry);
        expect(h.equals(tile.rawPayload.subarray(i * 32, i * 32 + 32))).toBe(true);
        leaves.push(h);
      }
    }
    expect(leaves).toHaveLength(cp.size);
    expect(mth(leaves).equals(cp.root)).toBe(true);
    const level1 = await get('/ledger/system/tile/1/000.p/1', auditor);
    expect(level1.rawPayload.equals(mth(leaves.slice(0, 256)))).toBe(true);
  });

  it('answers bad paths, widths and ledgers with problem+json and writes nothing', async () => {
    const before = await host.ledgers.store.size('system');
    const cases: [string, number, string][] = [
      ['/ledger/system/tile/0/1', 400, 'LEDGER_TILE_PATH_INVALID'],
      ['/ledger/system/tile/0/000.p/256', 400, 'LEDGER_TILE_PATH_INVALID'],
      ['/ledger/system/tile/0/000.p/0', 400, 'LEDGER_TILE_PATH_INVALID'],
      ['/ledger/system/tile/0/x000/001', 400, 'LEDGER_TILE_PATH_INVALID'],
      ['/ledger/system/tile/64/000', 400, 'LEDGER_TILE_PATH_INVALID'],
      ['/ledger/system/tile/0/%2e%2e%2fcheckpoint', 400, 'LEDGER_TILE_PATH_INVALID'],
      ['/ledger/system/tile/0/005', 404, 'LEDGER_TILE_NOT_FOUND'],
      ['/ledger/system/tile/0/001', 404, 'LEDGER_TILE_NOT_FOUND'],
      ['/ledger/system/tile/0/001.p/255', 404, 'LEDGER_TILE_NOT_FOUND'],
      ['/ledger/system/tile/entries/002.p/1', 404, 'LEDGER_TILE_NOT_FOUND'],
      // A public name that does not exist is unknown.
      ['/ledger/ghost/checkpoint', 404, 'LEDGER_UNKNOWN'],
      ['/ledger/ghost/tile/0/000', 404, 'LEDGER_UNKNOWN'],
    ];
    for (const [url, status, code] of cases) {
      const res = await get(url, admin);
      expect(res.statusCode, url).toBe(status);
      expect(res.headers['content-type'], url).toContain('application/problem+json');
      expect((JSON.parse(res.body) as { code: string }).code, url).toBe(code);
    }
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/ledger/system/checkpoint',
          headers: { authorization: `Bearer ${admin}` },
        })
      ).statusCode,
    ).toBe(404);
    expect(await host.ledgers.store.size('system')).toBe(before);
    // Another workspace's ledger is not the admin's to read, nor to probe for existence.
    expect((await get('/ledger/nope/checkpoint', admin)).statusCode).toBe(403);
  });
});
