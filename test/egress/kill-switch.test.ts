// Kill switches on SQLite and PostgreSQL: AI steps stop globally or per workspace, changes are audited.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestStore, DIALECTS, type TestStore } from '../helpers/dialects.ts';
import { KillSwitches } from '../../src/egress/index.ts';
import { MemoryAuditSink } from '../../src/ledger/index.ts';

const ADMIN = { kind: 'user', id: 'admin-1' } as const;

for (const dialect of DIALECTS) {
  describe(`kill switches (${dialect})`, () => {
    let t: TestStore;
    let audit: MemoryAuditSink;
    let switches: KillSwitches;
    beforeEach(async () => {
      t = await createTestStore(dialect);
      audit = new MemoryAuditSink();
      switches = new KillSwitches({ db: t.store.db, audit });
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('disables AI per workspace, globally, and with the workspace and global switches', async () => {
      expect(await switches.isAiDisabled('acme')).toBe(false);
      await switches.set({ kind: 'ai', workspace: 'acme' }, true, ADMIN);
      expect(await switches.isAiDisabled('acme')).toBe(true);
      expect(await switches.isAiDisabled('other')).toBe(false);
      await switches.set({ kind: 'ai', workspace: 'acme' }, false, ADMIN);
      expect(await switches.isAiDisabled('acme')).toBe(false);
      await switches.set({ kind: 'ai' }, true, ADMIN);
      expect(await switches.isAiDisabled('other')).toBe(true);
      await switches.set({ kind: 'ai' }, false, ADMIN);
      await switches.set({ kind: 'workspace', workspace: 'other' }, true, ADMIN);
      expect(await switches.isAiDisabled('other')).toBe(true);
      expect(await switches.isAiDisabled('acme')).toBe(false);
      await switches.set({ kind: 'global' }, true, ADMIN);
      expect(await switches.isAiDisabled('acme')).toBe(true);
      expect(await switches.isEngaged({ kind: 'connector', workspace: 'acme', connector: 'stripe' })).toBe(
        false,
      );
      const list = await switches.list();
      expect(list.map((s) => [s.scopeKind, s.scopeId, s.state])).toEqual([
        ['ai', '*', 'released'],
        ['ai', 'acme', 'released'],
        ['global', '*', 'engaged'],
        ['workspace', 'other', 'engaged'],
      ]);
      expect(audit.events.map((e) => [e.ledger, e.event.action])).toEqual([
        ['acme', 'killswitch.engage'],
        ['acme', 'killswitch.release'],
        ['system', 'killswitch.engage'],
        ['system', 'killswitch.release'],
        ['other', 'killswitch.engage'],
        ['system', 'killswitch.engage'],
      ]);
    });

    it('rejects malformed scope ids and stores nothing', async () => {
      await expect(
        switches.set({ kind: 'workspace', workspace: 'Bad Id' }, true, ADMIN),
      ).rejects.toMatchObject({
        code: 'INPUT_INVALID',
        details: { field: 'workspace' },
      });
      await expect(
        switches.set({ kind: 'workflow', workspace: 'acme', workflow: '../x' }, true, ADMIN),
      ).rejects.toMatchObject({ code: 'INPUT_INVALID', details: { field: 'workflow' } });
      expect(await switches.list()).toEqual([]);
      expect(audit.events).toEqual([]);
    });
  });
}
