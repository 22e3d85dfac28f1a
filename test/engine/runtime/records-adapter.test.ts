// The record store behind store steps, on both dialects: a workflow's data schema becomes the
// record schema (classified fields encrypted, indexed ones blind-indexed, e-mail as subject), puts
// are idempotent per step attempt, and undeclared or non-scalar fields are refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseWorkflow, type WorkflowDefinition } from '../../../src/engine/definition/index.ts';
import {
  piiCategoryOf,
  recordAccessFrom,
  recordSchemaOf,
} from '../../../src/engine/runtime/records-adapter.ts';
import type { StepContext } from '../../../src/engine/runtime/workflows.ts';
import { isCustosError } from '../../../src/errors/index.ts';
import { createLocalRootKeyFile, Keyring } from '../../../src/keys/index.ts';
import { MemoryAuditSink } from '../../../src/ledger/index.ts';
import { RecordStore } from '../../../src/privacy/index.ts';
import { DIALECTS, createTestStore, type TestStore } from '../../helpers/dialects.ts';

const WS = 'acme';
const SOURCE = `
format: custos/workflow/v1
name: intake
version: 1.0.0
owner: team-test
trigger: { kind: manual }
retention: short
data:
  fields:
    fullName: { type: string, classification: confidential, category: 'custom:person_name' }
    email: { type: string, classification: restricted, category: email, indexed: true }
    iban: { type: string, classification: restricted, category: iban }
    age: { type: integer, classification: internal }
    vip: { type: boolean, classification: public }
    tags: { type: array, classification: internal }
steps:
  - id: save
    kind: store
    action: put
    recordType: customer
    record:
      email: '{{ input.email }}'
`;

const definition: WorkflowDefinition = parseWorkflow(SOURCE, { filename: 'intake.yaml' });

function context(runId: string, seq = 0): StepContext {
  return {
    workspaceId: WS,
    environment: 'dev',
    workflow: 'intake',
    runId,
    stepId: 'save',
    kind: 'store',
    correlationId: '0'.repeat(32),
    traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`,
    idempotencyKey: `${runId}.${String(seq)}`,
    definition,
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isCustosError(err)) return err.code;
    throw err;
  }
  return 'resolved';
}

describe('record schema from a workflow data schema', () => {
  it('maps categories, types, indexes and the subject', () => {
    expect(piiCategoryOf('custom:person_name')).toBe('name');
    expect(piiCategoryOf('custom:national_id')).toBe('national_id');
    expect(piiCategoryOf('iban')).toBe('financial');
    expect(piiCategoryOf('custom:favourite_colour')).toBe('other');
    const schema = recordSchemaOf(definition, 'customer', true);
    expect(schema.subject).toBe('email');
    expect(
      schema.fields.map((f) => [f.path, f.type, f.classification, f.category, f.encrypted, f.index !== null]),
    ).toEqual([
      ['fullName', 'string', 'confidential', 'name', true, false],
      ['email', 'string', 'restricted', 'email', true, true],
      ['iban', 'string', 'restricted', 'financial', true, false],
      ['age', 'number', 'internal', null, false, false],
      ['vip', 'boolean', 'public', null, false, false],
    ]);
    expect(recordSchemaOf(definition, 'customer', false).subject).toBeNull();
    expect(recordSchemaOf(definition, 'customer', true)).toBe(schema);
  });
});

for (const dialect of DIALECTS) {
  describe(`records adapter (${dialect})`, () => {
    let t: TestStore;
    let dir: string;
    let records: RecordStore;
    let audit: MemoryAuditSink;

    beforeEach(async () => {
      t = await createTestStore(dialect);
      dir = mkdtempSync(join(tmpdir(), 'custos-records-'));
      audit = new MemoryAuditSink();
      const keyring = new Keyring({
        store: t.store,
        root: await createLocalRootKeyFile(join(dir, 'root.key')),
        audit,
      });
      await t.store.db
        .insertInto('workspaces')
        .values({ id: WS, name: WS, created_at: new Date().toISOString() })
        .execute();
      await keyring.initWorkspace(WS, { kind: 'user', id: 'admin' });
      records = new RecordStore({ store: t.store, keyring, audit, authorize: () => true });
    });
    afterEach(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('stores records encrypted and finds them by a blind-indexed field', async () => {
      const runId = '00000000-0000-4000-8000-000000000001';
      const access = recordAccessFrom(records)(context(runId));
      const record = {
        fullName: 'Ada Lovelace',
        email: 'Ada@Example.com',
        iban: 'GB33BUKB20201555555555',
        age: 36,
        vip: true,
      };
      expect(await access.put('customer', record)).toEqual({ id: `${runId}.0` });
      // A re-run of the same attempt (crash, timeout) finds the record it wrote, not a second one.
      expect(await access.put('customer', record)).toEqual({ id: `${runId}.0` });
      const other = recordAccessFrom(records)(context('00000000-0000-4000-8000-000000000002'));
      await other.put('customer', { fullName: 'Grace Hopper', vip: false });

      const rows = await t.store.db.selectFrom('records').selectAll().orderBy('id').execute();
      expect(rows).toHaveLength(2);
      const text = JSON.stringify(rows);
      for (const v of [
        'Ada Lovelace',
        'Ada@Example.com',
        'ada@example.com',
        'GB33BUKB20201555555555',
        'Grace Hopper',
      ])
        expect(text).not.toContain(v);
      expect(rows[0]?.subject_id).toMatch(/^sub_/);
      expect(rows[1]?.subject_id).toBeNull();

      const view = await records.get(WS, 'customer', `${runId}.0`, {
        reveal: true,
        actor: { kind: 'user', id: 'a' },
        purpose: 'test',
      });
      expect(view.fields).toEqual(record);
      expect(await access.findBy('customer', 'email', ' ada@EXAMPLE.com')).toEqual([{ id: `${runId}.0` }]);
      expect(await access.findBy('customer', 'email', 'nobody@example.com')).toEqual([]);
      expect(await access.findBy('never-stored', 'email', 'ada@example.com')).toEqual([]);
      expect(await codeOf(access.findBy('customer', 'fullName', 'Ada Lovelace'))).toBe(
        'PRIVACY_FIELD_NOT_INDEXED',
      );
      expect(await codeOf(access.findBy('customer', 'email', { a: 1 }))).toBe('INPUT_INVALID');
      // The ledger names the run that wrote and looked up, never a value.
      const events = JSON.stringify(audit.events);
      expect(events).toContain(`run:${runId}`);
      expect(events).not.toContain('Ada');
    });

    it('refuses undeclared and non-scalar fields and writes nothing', async () => {
      const access = recordAccessFrom(records)(context('00000000-0000-4000-8000-000000000003'));
      expect(await codeOf(access.put('customer', { email: 'a@example.com', ssn: '123-45-6789' }))).toBe(
        'PRIVACY_RECORD_INVALID',
      );
      expect(await codeOf(access.put('customer', { email: 'a@example.com', tags: ['x'] }))).toBe(
        'PRIVACY_RECORD_INVALID',
      );
      expect(await codeOf(access.put('customer', { email: 'a@example.com', age: 'old' }))).toBe(
        'PRIVACY_IMPORT_FAILED',
      );
      expect(await t.store.db.selectFrom('records').selectAll().execute()).toEqual([]);
    });
  });
}
