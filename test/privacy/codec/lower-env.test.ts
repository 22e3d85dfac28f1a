import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../helpers/dialects.ts';
import { ADMIN } from '../../keys/setup.ts';
import {
  loadMaskingKeys,
  maskRecordForLowerEnv,
  parseDataSchema,
  Tokenizer,
} from '../../../src/privacy/index.ts';
import { employee, SEEDED, seededStrings, seedLines, setupRecordStore, type StoreFixture } from './setup.ts';

const customer = parseDataSchema(`
type: customer
fields:
  contact: {classification: confidential, category: email}
  card: {classification: restricted, category: financial, mask: ff1}
  code: {classification: confidential, category: other, mask: ff1, alphabet: upper_alnum, tokenDomain: promo}
  notes: {classification: confidential, category: free_text}
  since: {type: datetime, classification: confidential, category: other}
`);

for (const dialect of DIALECTS) {
  describe(`lower-environment masking (${dialect})`, () => {
    let f: StoreFixture | undefined;
    afterEach(async () => {
      await f?.cleanup();
      f = undefined;
    });

    it('replaces classified values deterministically, preserving formats and joins', async () => {
      f = await setupRecordStore(dialect);
      const keys = await loadMaskingKeys(f.keyring, f.workspaceId, customer);
      const record = {
        contact: 'Grace.Hopper@Example.org',
        card: '4111 1111 1111 1111',
        code: 'AB12-CD34',
        notes: 'called about invoice',
        since: '2021-06-01T08:30:00Z',
      };
      const masked = maskRecordForLowerEnv(customer, record, keys);
      expect(maskRecordForLowerEnv(customer, record, keys)).toEqual(masked);
      expect(masked.notes).toBeUndefined();
      expect(masked.since).toBe('2021-01-01T00:00:00Z');
      expect(masked.contact).toMatch(/^dt1_[a-z0-9_-]{22}@masked\.invalid$/);
      expect(masked.card).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
      expect(masked.card).not.toBe(record.card);
      expect(masked.code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
      const tok = new Tokenizer({ store: f.t.store, keyring: f.keyring, audit: f.audit });
      expect(masked.contact).toBe(
        `${(await tok.deterministic(f.workspaceId, 'email', 'grace.hopper@example.org')).toLowerCase()}@masked.invalid`,
      );

      await f.records.importNdjson(f.workspaceId, employee, seedLines(), ADMIN);
      const copies = await f.records.lowerEnvCopy(f.workspaceId, 'employee', ADMIN);
      expect(copies.map((c) => c.id)).toEqual(['e-1', 'e-2', 'e-3']);
      const e2 = copies[1]!.fields;
      // Same email in two record types, same token domain: the masked values join.
      expect(e2.email).toBe(masked.contact);
      expect(e2).toMatchObject({ dept: 'R&D', active: false, born: '1920-01-01', address: { zip: '01123' } });
      expect(e2.salary).toBeUndefined();
      expect(e2.phone).toMatch(/^\+\d \d{3} \d{3} \d{4}$/);
      const text = JSON.stringify(copies);
      for (const s of seededStrings()) expect(text).not.toContain(s);
      expect(text).not.toContain(SEEDED.names[0]!.split(' ')[1]);
    });
  });
}
