// Database archive backend (PostgreSQL in cluster mode; SQLite works too): blobs as 1 MiB chunks,
// written in one transaction and verified before commit. Chunks are never updated: a repair
// appends a new generation and reads take the newest complete one.
import { asBuffer, type Store } from '../../store/index.ts';
import { checkAddress, digestMismatch, hashing, notFound, type BlobBackend } from './backend.ts';

const CHUNK = 1024 * 1024;

async function* rechunk(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const c of source) {
    parts.push(Buffer.from(c));
    size += c.length;
    while (size >= CHUNK) {
      const all = Buffer.concat(parts, size);
      yield all.subarray(0, CHUNK);
      parts = [all.subarray(CHUNK)];
      size -= CHUNK;
    }
  }
  if (size > 0) yield Buffer.concat(parts, size);
}

export class DbBackend implements BlobBackend {
  readonly name = 'db';
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async #generation(sha256: string): Promise<number | undefined> {
    const row = await this.#store.db
      .selectFrom('custody_archive_chunks')
      .select((eb) => eb.fn.max('generation').as('g'))
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    const g: unknown = row?.g;
    return g === null || g === undefined ? undefined : Number(g);
  }

  async has(sha256: string): Promise<boolean> {
    checkAddress(sha256);
    return (await this.#generation(sha256)) !== undefined;
  }

  async #insert(sha256: string, generation: number, source: AsyncIterable<Uint8Array>): Promise<void> {
    await this.#store.db.transaction().execute(async (trx) => {
      const h = hashing(source);
      let seq = 0;
      for await (const data of rechunk(h.stream)) {
        await trx.insertInto('custody_archive_chunks').values({ sha256, generation, seq, data }).execute();
        seq++;
      }
      if (seq === 0)
        await trx
          .insertInto('custody_archive_chunks')
          .values({ sha256, generation, seq: 0, data: Buffer.alloc(0) })
          .execute();
      // A mismatch throws inside the transaction, so nothing of it is committed.
      if (h.digest() !== sha256) throw digestMismatch(sha256, 'while archiving');
    });
  }

  async write(sha256: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    checkAddress(sha256);
    if ((await this.#generation(sha256)) !== undefined) return;
    await this.#insert(sha256, 0, source);
  }

  async *read(sha256: string): AsyncGenerator<Buffer> {
    checkAddress(sha256);
    const generation = await this.#generation(sha256);
    if (generation === undefined) throw notFound(sha256);
    for (let seq = 0; ; seq += 16) {
      const rows = await this.#store.db
        .selectFrom('custody_archive_chunks')
        .select(['seq', 'data'])
        .where('sha256', '=', sha256)
        .where('generation', '=', generation)
        .where('seq', '>=', seq)
        .where('seq', '<', seq + 16)
        .orderBy('seq')
        .execute();
      for (const r of rows) yield asBuffer(r.data);
      if (rows.length < 16) return;
    }
  }

  async remove(sha256: string): Promise<void> {
    checkAddress(sha256);
    await this.#store.db.deleteFrom('custody_archive_chunks').where('sha256', '=', sha256).execute();
  }

  async restore(sha256: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    checkAddress(sha256);
    const generation = ((await this.#generation(sha256)) ?? -1) + 1;
    await this.#insert(sha256, generation, source);
  }
}
