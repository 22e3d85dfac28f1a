// Webhook trigger: signature, replay window, seen-signature table, size and depth limits; a
// rejected delivery persists nothing (both dialects).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  parseWebhookBody,
  receiveWebhook,
  signWebhook,
  verifySignature,
  type WebhookDelivery,
} from '../../../src/engine/runtime/triggers/webhook.ts';
import { DIALECTS, createTestStore, type TestStore } from '../../helpers/dialects.ts';
import { completed, stubWorkflow, testRuntime } from './helpers.ts';

const KEY = randomBytes(32);
const NOW = Date.parse('2025-05-01T12:00:00Z');
const T = Math.floor(NOW / 1000);

describe('webhook signatures and bodies', () => {
  const body = Buffer.from('{"a":1}');
  it('accepts a valid signature and returns a stable digest', () => {
    const header = signWebhook(KEY, body, T);
    expect(verifySignature(KEY, header, body, NOW, 300)).toMatch(/^[0-9a-f]{64}$/);
    expect(verifySignature(KEY, header, body, NOW, 300)).toBe(
      verifySignature(KEY, header, body, NOW + 1000, 300),
    );
  });

  it('rejects missing, malformed, wrong and stale signatures with typed errors', () => {
    const header = signWebhook(KEY, body, T);
    const reject =
      (h: string | undefined, b = body, now = NOW) =>
      () =>
        verifySignature(KEY, h, b, now, 300);
    expect(reject(undefined)).toThrow(expect.objectContaining({ code: 'RUNTIME_WEBHOOK_SIGNATURE_INVALID' }));
    expect(reject('v1=abc')).toThrow(expect.objectContaining({ code: 'RUNTIME_WEBHOOK_SIGNATURE_INVALID' }));
    expect(reject(header, Buffer.from('{"a":2}'))).toThrow(
      expect.objectContaining({ code: 'RUNTIME_WEBHOOK_SIGNATURE_INVALID' }),
    );
    expect(reject(signWebhook(randomBytes(32), body, T))).toThrow(
      expect.objectContaining({ code: 'RUNTIME_WEBHOOK_SIGNATURE_INVALID' }),
    );
    expect(reject(header, body, NOW + 301_000)).toThrow(
      expect.objectContaining({ code: 'RUNTIME_WEBHOOK_STALE' }),
    );
    expect(reject(header, body, NOW - 301_000)).toThrow(
      expect.objectContaining({ code: 'RUNTIME_WEBHOOK_STALE' }),
    );
  });

  it('enforces size, depth, encoding and shape', () => {
    const limits = { maxBytes: 64, maxDepth: 4, toleranceSeconds: 300 };
    const code = (b: string | Buffer) => {
      try {
        parseWebhookBody(typeof b === 'string' ? Buffer.from(b) : b, limits);
        return 'ok';
      } catch (err) {
        return (err as { code: string }).code;
      }
    };
    expect(code('{"a":{"b":[1,2]}}')).toBe('ok');
    expect(code(`{"a":"${'x'.repeat(80)}"}`)).toBe('RUNTIME_WEBHOOK_TOO_LARGE');
    expect(code('{"a":[[[[[1]]]]]}')).toBe('RUNTIME_WEBHOOK_TOO_DEEP');
    expect(code('{"a":"[[[[[[["}')).toBe('ok');
    expect(code('{"a":')).toBe('RUNTIME_WEBHOOK_MALFORMED');
    expect(code('[1]')).toBe('RUNTIME_WEBHOOK_MALFORMED');
    expect(code(Buffer.from([0x7b, 0xff, 0x7d]))).toBe('RUNTIME_WEBHOOK_MALFORMED');
  });
});

for (const dialect of DIALECTS) {
  describe(`webhook deliveries (${dialect})`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await createTestStore(dialect);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    async function counts(): Promise<{ runs: number; receipts: number }> {
      const runs = await t.store.db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst();
      const receipts = await t.store.db
        .selectFrom('webhook_receipts')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst();
      return { runs: Number(runs?.n), receipts: Number(receipts?.n) };
    }

    it('starts one run per signed delivery and refuses replays and bad input without writing', async () => {
      const { runtime } = await testRuntime(t.store, [
        stubWorkflow('intake', [{ id: 'a', run: () => completed(1) }]),
      ]);
      const deps = {
        store: t.store,
        start: runtime.start,
        keys: (_ws: string, wf: string) => Promise.resolve(wf === 'intake' ? KEY : undefined),
        clock: () => NOW,
      };
      const body = Buffer.from(JSON.stringify({ name: 'Ada', email: 'ada@example.com' }));
      const delivery: WebhookDelivery = {
        workspaceId: 'acme',
        workflow: 'intake',
        body,
        signature: signWebhook(KEY, body, T),
      };
      const first = await receiveWebhook(deps, delivery);
      expect(first.created).toBe(true);
      expect(await counts()).toEqual({ runs: 1, receipts: 1 });

      await expect(receiveWebhook(deps, delivery)).rejects.toMatchObject({
        code: 'RUNTIME_WEBHOOK_REPLAYED',
      });
      const bad: [Partial<WebhookDelivery>, string][] = [
        [{ signature: signWebhook(randomBytes(32), body, T) }, 'RUNTIME_WEBHOOK_SIGNATURE_INVALID'],
        [{ signature: signWebhook(KEY, body, T - 3600) }, 'RUNTIME_WEBHOOK_STALE'],
        [{ signature: undefined }, 'RUNTIME_WEBHOOK_SIGNATURE_INVALID'],
        [{ workflow: 'other' }, 'RUNTIME_WEBHOOK_SIGNATURE_INVALID'],
        [{ body: Buffer.alloc(300 * 1024, 0x20) }, 'RUNTIME_WEBHOOK_TOO_LARGE'],
      ];
      for (const [change, code] of bad) {
        await expect(receiveWebhook(deps, { ...delivery, ...change })).rejects.toMatchObject({ code });
      }
      for (const text of ['{"a":', '[1,2]', `${'['.repeat(40)}${']'.repeat(40)}`]) {
        const b = Buffer.from(text);
        await expect(
          receiveWebhook(deps, { ...delivery, body: b, signature: signWebhook(KEY, b, T) }),
        ).rejects.toThrow();
      }
      // An input the workflow refuses (here: an unknown workflow) also leaves no receipt behind.
      const b = Buffer.from('{"x":1}');
      expect(await counts()).toEqual({ runs: 1, receipts: 1 });
      await expect(
        receiveWebhook(
          { ...deps, keys: () => Promise.resolve(KEY) },
          { ...delivery, workflow: 'missing', body: b, signature: signWebhook(KEY, b, T) },
        ),
      ).rejects.toMatchObject({ code: 'RUNTIME_WORKFLOW_NOT_DEPLOYED' });
      expect(await counts()).toEqual({ runs: 1, receipts: 1 });
    });

    it('returns the same run for a redelivery with the same idempotency key', async () => {
      const { runtime } = await testRuntime(t.store, [
        stubWorkflow('intake', [{ id: 'a', run: () => completed(1) }]),
      ]);
      const deps = {
        store: t.store,
        start: runtime.start,
        keys: () => Promise.resolve(KEY),
        clock: () => NOW,
      };
      const body = Buffer.from('{"n":1}');
      const delivery = {
        workspaceId: 'acme',
        workflow: 'intake',
        body,
        idempotencyKey: 'evt_1',
        signature: signWebhook(KEY, body, T),
      };
      const a = await receiveWebhook(deps, delivery);
      const b = await receiveWebhook(deps, { ...delivery, signature: signWebhook(KEY, body, T + 1) });
      expect(b).toMatchObject({ runId: a.runId, created: false });
      expect(await counts()).toEqual({ runs: 1, receipts: 1 });
    });
  });
}
