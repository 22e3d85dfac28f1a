// Re-packing bundles for tamper tests: read every entry, change some, write the tar again, and
// (like a careful attacker) optionally recompute the unsigned tag manifests.
import { readFileSync, writeFileSync } from 'node:fs';
import { sha256Hex, sha512 } from '../../../src/crypto/index.ts';
import { formatManifest } from '../../../src/custody/bagit/manifest.ts';
import { bytesSource } from '../../../src/custody/io/byte-reader.ts';
import { MemorySink } from '../../../src/custody/io/sink.ts';
import { readTar } from '../../../src/custody/tar/reader.ts';
import { TarWriter } from '../../../src/custody/tar/writer.ts';

export type Files = [name: string, bytes: Buffer][];

export async function unpack(path: string): Promise<Files> {
  const out: Files = [];
  for await (const e of readTar(bytesSource(readFileSync(path)))) {
    if (e.type === 'file') out.push([e.name, await e.readAll(1 << 30)]);
  }
  return out;
}

export function get(files: Files, name: string): Buffer {
  const f = files.find(([n]) => n === name);
  if (f === undefined) throw new Error(`no ${name}`);
  return f[1];
}

export function put(files: Files, name: string, bytes: Buffer): Files {
  const i = files.findIndex(([n]) => n === name);
  const next = [...files];
  if (i < 0) next.splice(next.length - 2, 0, [name, bytes]);
  else next[i] = [name, bytes];
  return next;
}

export function drop(files: Files, name: string): Files {
  return files.filter(([n]) => n !== name);
}

export function retag(files: Files): Files {
  const tags = files.filter(([n]) => !n.startsWith('data/') && !n.startsWith('tagmanifest-'));
  let out = put(
    files,
    'tagmanifest-sha256.txt',
    formatManifest(tags.map(([path, b]) => ({ path, digest: sha256Hex(b) }))),
  );
  out = put(
    out,
    'tagmanifest-sha512.txt',
    formatManifest(tags.map(([path, b]) => ({ path, digest: sha512(b).toString('hex') }))),
  );
  return out;
}

export async function pack(path: string, files: Files): Promise<void> {
  const sink = new MemorySink();
  const tar = new TarWriter(sink);
  for (const [name, bytes] of files) await tar.addFile(name, bytes);
  await tar.finish();
  writeFileSync(path, sink.bytes());
}

export function flip(bytes: Buffer, at = Math.floor(bytes.length / 2)): Buffer {
  const b = Buffer.from(bytes);
  b[at] = (b[at] ?? 0) ^ 0x01;
  return b;
}
