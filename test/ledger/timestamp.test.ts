// RFC 3161 time-stamps of checkpoints against a real TSA (`openssl ts -reply`): tokens are stored,
// shown by verify, accepted by `openssl ts -verify`, and a changed token is detected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustosError } from '../../src/errors/index.ts';
import {
  checkpointDigest,
  inspectTimestampToken,
  requestTimestamp,
  type Ledgers,
} from '../../src/ledger/index.ts';
import { createTestStore, type TestStore } from '../helpers/dialects.ts';
import { dropAppendOnlyGuards, openLedgers, testEvent } from './helpers.ts';
import { opensslVerify, startTsa, type TestTsa } from './fixtures/tsa.ts';

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('RFC 3161 time-stamps', () => {
  let tsa: TestTsa;
  beforeAll(async () => {
    tsa = await startTsa();
  });
  afterAll(async () => {
    await tsa.close();
  });

  it('requests a token that openssl ts -verify accepts', async () => {
    const data = Buffer.from('example.com/log\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n\n— sig\n');
    const token = await requestTimestamp(tsa.url, checkpointDigest(data.toString('utf8')));
    expect(opensslVerify(tsa, token, data)).toMatch(/Verification: OK/);
    const info = await inspectTimestampToken(token, checkpointDigest(data.toString('utf8')));
    expect(info).toMatchObject({
      imprintMatches: true,
      signatureValid: true,
      policy: '1.3.6.1.4.1.4146.2.3',
    });
    expect(info.signer).toContain('Custos Test TSA');
    expect(Math.abs(Date.parse(info.genTime) - Date.now())).toBeLessThan(60_000);
    const other = await inspectTimestampToken(token, Buffer.alloc(32));
    expect(other.imprintMatches).toBe(false);
  });

  it('reports an unreachable or refusing TSA as LEDGER_TIMESTAMP_FAILED', async () => {
    tsa.failWith = 503;
    try {
      const err = (await requestTimestamp(tsa.url, Buffer.alloc(32)).catch((e: unknown) => e)) as CustosError;
      expect(err).toBeInstanceOf(CustosError);
      expect(err.code).toBe('LEDGER_TIMESTAMP_FAILED');
    } finally {
      tsa.failWith = undefined;
    }
    const err = (await requestTimestamp('http://127.0.0.1:9/none', Buffer.alloc(32)).catch(
      (e: unknown) => e,
    )) as CustosError;
    expect(err.code).toBe('LEDGER_TIMESTAMP_FAILED');
  });

  describe('on a ledger (sqlite)', () => {
    let t: TestStore;
    let ledgers: Ledgers;
    beforeAll(async () => {
      t = await createTestStore('sqlite');
    });
    afterAll(async () => {
      await ledgers.close();
      await t.cleanup();
    });

    it('time-stamps checkpoints, shows tokens in verify, and detects a changed token', async () => {
      const errors: unknown[] = [];
      ledgers = openLedgers(
        t.store,
        { checkpointEveryEntries: 10, tsaUrl: tsa.url },
        { onError: (e) => errors.push(e) },
      );
      await Promise.all(Array.from({ length: 25 }, (_, i) => ledgers.append('system', testEvent(i))));
      const cp = await (await ledgers.open('system')).checkpoint();
      await until(async () => (await ledgers.store.timestamps('system')).some((s) => s.size === cp.size));
      expect(errors).toEqual([]);
      const report = await ledgers.verify('system');
      expect(report.ok, JSON.stringify(report.failure)).toBe(true);
      expect(report.timestamps.length).toBeGreaterThan(0);
      const last = report.timestamps.at(-1)!;
      expect(last).toMatchObject({
        size: cp.size,
        tsaUrl: tsa.url,
        imprintMatches: true,
        signatureValid: true,
      });
      const stored = (await ledgers.store.timestamps('system')).find((s) => s.size === cp.size)!;
      expect(opensslVerify(tsa, stored.token, Buffer.from(cp.note, 'utf8'))).toMatch(/Verification: OK/);
      await dropAppendOnlyGuards(t.store);
      const token = Buffer.from(stored.token);
      token[token.length - 5] = (token[token.length - 5] ?? 0) ^ 0x40;
      await t.store.db.updateTable('ledger_timestamps').set({ token }).where('size', '=', cp.size).execute();
      const bad = await ledgers.verify('system');
      expect(bad.failure?.code).toBe('LEDGER_TIMESTAMP_INVALID');
      expect(bad.failure?.details.checkpointSize).toBe(cp.size);
    });
  });
});
