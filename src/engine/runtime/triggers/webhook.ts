// Webhook trigger: `Custos-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>." || body)>`,
// a replay window around `t`, a table of accepted signatures, size and nesting limits. Every check
// runs before anything is written; a rejected delivery persists nothing.
import type { JsonValue } from '../../../crypto/index.ts';
import { constantTimeEqual, hmacSha256, sha256Hex } from '../../../crypto/index.ts';
import { CustosError } from '../../../errors/index.ts';
import type { Store } from '../../../store/index.ts';
import type { TriggerRequest, TriggerResult } from './manual.ts';

export const SIGNATURE_HEADER = 'custos-signature';

export interface WebhookLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  /** Accepted clock difference between sender and receiver, in seconds. */
  readonly toleranceSeconds: number;
}

export const DEFAULT_WEBHOOK_LIMITS: WebhookLimits = {
  maxBytes: 256 * 1024,
  maxDepth: 32,
  toleranceSeconds: 300,
};

/** The HMAC key of a workflow's webhook; undefined when it has none (the delivery is refused). */
export type WebhookKeys = (workspaceId: string, workflow: string) => Promise<Uint8Array | undefined>;

const HEADER_FORMAT = /^t=(\d{1,12})((?:,v1=[0-9a-f]{64}){1,4})$/;

/** The signature header value for `body` sent at `timestamp` (unix seconds): for senders and tests. */
export function signWebhook(key: Uint8Array, body: Uint8Array | string, timestamp: number): string {
  const mac = hmacSha256(key, `${timestamp}.`, typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return `t=${timestamp},v1=${mac.toString('hex')}`;
}

function signatureError(rule: string): CustosError {
  return new CustosError('RUNTIME_WEBHOOK_SIGNATURE_INVALID', 'Webhook signature is missing or invalid', {
    details: { field: SIGNATURE_HEADER, rule },
  });
}

/**
 * Verify the signature header over the raw body. Returns the digest of the matching signature, the
 * replay-table key. Throws RUNTIME_WEBHOOK_SIGNATURE_INVALID, RUNTIME_WEBHOOK_STALE.
 */
export function verifySignature(
  key: Uint8Array,
  header: string | undefined,
  body: Uint8Array,
  nowMs: number,
  toleranceSeconds: number,
): string {
  const m = header === undefined ? null : HEADER_FORMAT.exec(header.trim());
  if (m?.[1] === undefined || m[2] === undefined) throw signatureError('t=<unix seconds>,v1=<64 hex>');
  const timestamp = Number(m[1]);
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) {
    throw new CustosError('RUNTIME_WEBHOOK_STALE', 'Webhook timestamp is outside the replay window', {
      details: { field: SIGNATURE_HEADER, rule: `t within ${toleranceSeconds} s of the receiver's clock` },
    });
  }
  const expected = hmacSha256(key, `${m[1]}.`, body);
  // Compare every candidate so timing does not reveal which one matched.
  let matched: string | undefined;
  for (const candidate of m[2].slice(1).split(',')) {
    const hex = candidate.slice(3);
    if (constantTimeEqual(Buffer.from(hex, 'hex'), expected)) matched = hex;
  }
  if (matched === undefined) throw signatureError('HMAC-SHA256 over "<t>." and the raw body');
  return sha256Hex(matched);
}

/** Deepest nesting of arrays and objects in JSON text, stopping once past `limit`. */
function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Parse a webhook body: UTF-8 JSON object within the limits. Throws RUNTIME_WEBHOOK_TOO_LARGE,
 * RUNTIME_WEBHOOK_TOO_DEEP, RUNTIME_WEBHOOK_MALFORMED (never echoing the content).
 */
export function parseWebhookBody(
  body: Uint8Array,
  limits: WebhookLimits = DEFAULT_WEBHOOK_LIMITS,
): JsonValue {
  if (body.length > limits.maxBytes) {
    throw new CustosError('RUNTIME_WEBHOOK_TOO_LARGE', 'Webhook payload is too large', {
      details: { field: 'body', rule: `at most ${limits.maxBytes} bytes` },
    });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw malformed('UTF-8 text');
  }
  if (nestingExceeds(text, limits.maxDepth)) {
    throw new CustosError('RUNTIME_WEBHOOK_TOO_DEEP', 'Webhook payload is nested too deeply', {
      details: { field: 'body', rule: `nesting at most ${limits.maxDepth}` },
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed('JSON (RFC 8259)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('a JSON object');
  return value as JsonValue;
}

function replayed(): CustosError {
  return new CustosError('RUNTIME_WEBHOOK_REPLAYED', 'This webhook delivery was already received', {
    details: { field: SIGNATURE_HEADER, rule: 'each signature accepted once' },
  });
}

function malformed(rule: string): CustosError {
  return new CustosError('RUNTIME_WEBHOOK_MALFORMED', 'Webhook payload is not a JSON object', {
    details: { field: 'body', rule },
  });
}

export interface WebhookDeps {
  readonly store: Store;
  readonly start: (request: TriggerRequest) => Promise<TriggerResult>;
  readonly keys: WebhookKeys;
  readonly limits?: WebhookLimits;
  readonly clock?: () => number;
}

export interface WebhookDelivery {
  readonly workspaceId: string;
  readonly workflow: string;
  readonly environment?: string;
  readonly body: Uint8Array;
  readonly signature: string | undefined;
  readonly idempotencyKey?: string;
  readonly traceparent?: string;
}

/**
 * Accept one delivery: verify, parse, then start the run and record the signature in one transaction.
 * Throws the RUNTIME_WEBHOOK_* codes, RUNTIME_WORKFLOW_NOT_DEPLOYED (also for a workflow without a key,
 * so probing does not reveal which workflows exist) and the trigger's errors.
 */
export async function receiveWebhook(deps: WebhookDeps, delivery: WebhookDelivery): Promise<TriggerResult> {
  const limits = deps.limits ?? DEFAULT_WEBHOOK_LIMITS;
  const now = deps.clock?.() ?? Date.now();
  if (delivery.body.length > limits.maxBytes) parseWebhookBody(delivery.body, limits);
  const key = await deps.keys(delivery.workspaceId, delivery.workflow);
  if (key === undefined) throw signatureError('webhook trigger configured for this workflow');
  const digest = verifySignature(key, delivery.signature, delivery.body, now, limits.toleranceSeconds);
  const input = parseWebhookBody(delivery.body, limits);
  // Refuse a known replay before anything (a data key, a run) is created for it; the insert below
  // closes the race between two identical deliveries arriving at once.
  const seen = await deps.store.db
    .selectFrom('webhook_receipts')
    .select('digest')
    .where('workspace_id', '=', delivery.workspaceId)
    .where('workflow', '=', delivery.workflow)
    .where('digest', '=', digest)
    .executeTakeFirst();
  if (seen !== undefined) throw replayed();
  return deps.start({
    workspaceId: delivery.workspaceId,
    environment: delivery.environment ?? 'dev',
    workflow: delivery.workflow,
    input,
    trigger: 'webhook',
    actor: { kind: 'service', id: `webhook:${delivery.workflow}` },
    ...(delivery.idempotencyKey === undefined ? {} : { idempotencyKey: delivery.idempotencyKey }),
    ...(delivery.traceparent === undefined ? {} : { traceparent: delivery.traceparent }),
    before: async (trx) => {
      const inserted = await trx
        .insertInto('webhook_receipts')
        .values({
          workspace_id: delivery.workspaceId,
          workflow: delivery.workflow,
          digest,
          received_at: new Date(now).toISOString(),
        })
        .onConflict((oc) => oc.doNothing())
        .returning('digest')
        .executeTakeFirst();
      if (inserted === undefined) throw replayed();
    },
  });
}

/** Forget receipts older than the replay window (they can no longer pass the timestamp check). */
export async function purgeWebhookReceipts(
  store: Store,
  nowMs: number,
  limits = DEFAULT_WEBHOOK_LIMITS,
): Promise<void> {
  const before = new Date(nowMs - 2 * limits.toleranceSeconds * 1000).toISOString();
  await store.db.deleteFrom('webhook_receipts').where('received_at', '<', before).execute();
}
