// Hand-built tar blocks for hostile-input tests: any name, type flag or size, with a correct
// checksum, so the reader's own rules (not a checksum error) are what refuses them.
export interface RawEntry {
  readonly name: string;
  readonly type?: string;
  readonly size?: number;
  readonly data?: Buffer;
  readonly prefix?: string;
  readonly magic?: string;
  readonly linkname?: string;
}

export function rawHeader(e: RawEntry): Buffer {
  const b = Buffer.alloc(512);
  Buffer.from(e.name, 'utf8').copy(b, 0, 0, 100);
  b.write('0000644\0', 100, 'latin1');
  b.write('0000000\0', 108, 'latin1');
  b.write('0000000\0', 116, 'latin1');
  const size = e.size ?? e.data?.length ?? 0;
  b.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  b.write('00000000000\0', 136, 'latin1');
  b.fill(0x20, 148, 156);
  b.write(e.type ?? '0', 156, 'latin1');
  if (e.linkname !== undefined) b.write(e.linkname, 157, 'utf8');
  b.write(e.magic ?? 'ustar\u000000', 257, 'latin1');
  if (e.prefix !== undefined) Buffer.from(e.prefix, 'utf8').copy(b, 345, 0, 155);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

export function rawEntry(e: RawEntry): Buffer {
  const data = e.data ?? Buffer.alloc(0);
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([rawHeader(e), data, Buffer.alloc(pad)]);
}

export function rawTar(entries: readonly RawEntry[]): Buffer {
  return Buffer.concat([...entries.map(rawEntry), Buffer.alloc(1024)]);
}
