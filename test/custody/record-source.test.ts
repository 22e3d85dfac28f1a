// The privacy record store as an export's record source: batch reads with the treatment each field
// is given, records of erased subjects left out, one audited read per record with the correlation id.
import { afterEach, describe, expect, it } from 'vitest';
import { recordStoreSource } from '../../src/custody/index.ts';
import { Tokenizer } from '../../src/privacy/index.ts';
import { DIALECTS } from '../helpers/dialects.ts';
import { ADMIN } from '../keys/setup.ts';
import { employee, SEEDED, seedLines, setupRecordStore, type StoreFixture } from '../privacy/codec/setup.ts';

for (const dialect of DIALECTS) {
  describe(`record store as export source (${dialect})`, () => {
    let f: StoreFixture | undefined;
    afterEach(async () => {
      await f?.cleanup();
      f = undefined;
    });

    async function source(fx: StoreFixture): Promise<ReturnType<typeof recordStoreSource>> {
      await fx.records.importNdjson(fx.workspaceId, employee, seedLines(), ADMIN);
      return recordStoreSource({
        store: fx.t.store,
        records: fx.records,
        tokenizer: new Tokenizer({ store: fx.t.store, keyring: fx.keyring, audit: fx.audit }),
        actor: ADMIN,
        purpose: 'regulator request 7',
        correlationId: 'run-42',
      });
    }

    it('reads a batch with each field cleared, masked or tokenized, in the order of the ids given', async () => {
      f = await setupRecordStore(dialect);
      const src = await source(f);
      expect(await src.idsAfter(f.workspaceId, 'employee', undefined, 10)).toEqual(['e-1', 'e-2', 'e-3']);
      const before = f.audit.events.length;
      const rows = await src.read(f.workspaceId, 'employee', ['e-2', 'e-1', 'missing'], {
        email: 'clear',
        phone: 'mask',
        name: 'tokenize',
        'address.zip': 'clear',
      });
      expect(rows.map((r) => r.id)).toEqual(['e-2', 'e-1']);
      expect(rows[0]?.data).toMatchObject({
        email: SEEDED.emails[1],
        phone: '+* *** *** 0147',
        'address.zip': '01123',
      });
      const token = rows[0]?.data.name;
      expect(typeof token).toBe('string');
      expect(token).not.toContain('Grace');
      // Deterministic: the same value gets the same token in another read.
      const again = await src.read(f.workspaceId, 'employee', ['e-2'], { name: 'tokenize' });
      expect(again[0]?.data.name).toBe(token);
      const reads = f.audit.events
        .slice(before)
        .map((e) => e.event)
        .filter((e) => e.action === 'privacy.record.reveal');
      expect(reads.map((e) => [e.resource.id, e.purpose, e.correlationId])).toEqual(
        ['e-2', 'e-1', 'e-2'].map((id) => [`ws1/employee/${id}`, 'regulator request 7', 'run-42']),
      );
    });

    it('lists ids in code-unit order, page by page after the last id seen', async () => {
      f = await setupRecordStore(dialect);
      const src = await source(f);
      const extra = ['B-1', 'a-1', 'A-2', '.x', 'Z.9', 'e-10', 'E-3', '@y'];
      await f.records.importNdjson(
        f.workspaceId,
        employee,
        extra.map((id, i) => JSON.stringify({ id, email: `x${i}@example.test`, dept: 'ops' })).join('\n'),
        ADMIN,
      );
      const all = ['e-1', 'e-2', 'e-3', ...extra].sort();
      expect(all.slice(0, 3)).toEqual(['.x', '@y', 'A-2']);
      const pages: string[][] = [];
      let after: string | undefined;
      for (;;) {
        const page = await src.idsAfter(f.workspaceId, 'employee', after, 4);
        if (page.length === 0) break;
        pages.push(page);
        after = page.at(-1);
      }
      expect(pages.map((p) => p.length)).toEqual([4, 4, 3]);
      expect(pages.flat()).toEqual(all);
      expect(await src.idsAfter(f.workspaceId, 'other-type', undefined, 4)).toEqual([]);
    });

    it('leaves out the records of an erased subject, and nobody else', async () => {
      f = await setupRecordStore(dialect);
      const src = await source(f);
      const subject = await f.records.subjectIdFor(f.workspaceId, employee, SEEDED.emails[0]!);
      await f.records.eraseSubject(f.workspaceId, subject, ADMIN);
      const rows = await src.read(f.workspaceId, 'employee', ['e-1', 'e-2', 'e-3'], { email: 'clear' });
      expect(rows.map((r) => [r.id, r.data.email])).toEqual([
        ['e-2', SEEDED.emails[1]],
        ['e-3', SEEDED.emails[2]],
      ]);
    });
  });
}
