// The AI guard: secrets and PII never reach a model unredacted; decisions, model and digests are
// recorded (never the prompt); a kill switch stops AI steps.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AiGuard, guardPrompt, type AiKillSwitch } from '../../src/egress/index.ts';
import { isCustosError } from '../../src/errors/index.ts';
import { MemoryAuditSink } from '../../src/ledger/index.ts';
import { clearSecrets, registerSecret } from '../../src/observe/index.ts';

const SECRET = 'sk_live_ai_guard_secret_42';
const EMAIL = 'jane.doe@example.com';
const context = {
  workspace: 'acme',
  actor: { kind: 'service', id: 'engine' },
  correlationId: 'corr-9',
  runId: 'run-9',
} as const;
const model = { name: 'gpt-4o', version: '2024-08-06' };
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

beforeEach(() => {
  clearSecrets();
  registerSecret(SECRET);
});
afterEach(() => {
  clearSecrets();
});

describe('guardPrompt', () => {
  it('allows a clean prompt unchanged', () => {
    const r = guardPrompt('Summarize the quarterly report in three bullet points.', 'block');
    expect(r).toMatchObject({ decision: 'allow', secrets: 0, findings: {} });
    expect(r.promptDigest).toBe(sha('Summarize the quarterly report in three bullet points.'));
    expect(r.sentDigest).toBe(r.promptDigest);
  });

  it('blocks a prompt holding a secret or PII under policy block', () => {
    const secret = guardPrompt(`Use key ${SECRET} to call the API`, 'block');
    expect(secret).toMatchObject({ decision: 'block', prompt: undefined, sentDigest: undefined, secrets: 1 });
    const pii = guardPrompt(`Write to ${EMAIL} about the order`, { mode: 'block' });
    expect(pii.decision).toBe('block');
    expect(pii.findings).toMatchObject({ email: 1 });
  });

  it('redacts secrets and PII under policy redact', () => {
    const prompt = `Email ${EMAIL} the key ${SECRET} and ${SECRET}`;
    const r = guardPrompt(prompt, 'redact');
    expect(r.decision).toBe('redact');
    expect(r.secrets).toBe(2);
    expect(r.findings).toMatchObject({ email: 1 });
    expect(r.prompt).not.toContain(SECRET);
    expect(r.prompt).not.toContain(EMAIL);
    expect(r.prompt).toContain('[secret]');
    expect(r.promptDigest).toBe(sha(prompt));
    expect(r.sentDigest).toBe(sha(r.prompt ?? ''));
  });

  it('refuses oversized prompts', () => {
    expect(() => guardPrompt('x'.repeat(1_000_001), 'redact')).toThrow(
      expect.objectContaining({ code: 'EGRESS_REQUEST_TOO_LARGE' }),
    );
  });
});

describe('AiGuard', () => {
  let audit: MemoryAuditSink;
  let disabled: Set<string>;
  let guard: AiGuard;
  const kill: AiKillSwitch = { isAiDisabled: (ws) => Promise.resolve(disabled.has(ws)) };
  beforeEach(() => {
    audit = new MemoryAuditSink();
    disabled = new Set();
    guard = new AiGuard({ audit, killSwitch: kill });
  });

  it('records model, version, digests and decision, never the prompt', async () => {
    const prompt = `Email ${EMAIL} with ${SECRET}`;
    const r = await guard.check(context, model, prompt, 'redact');
    expect(r.prompt).not.toContain(EMAIL);
    const event = audit.events.at(-1);
    expect(event?.ledger).toBe('acme');
    expect(event?.event).toMatchObject({
      action: 'ai.prompt.decision',
      outcome: 'success',
      correlationId: 'corr-9',
      resource: { kind: 'ai-model', id: 'gpt-4o@2024-08-06' },
      details: {
        model: 'gpt-4o',
        modelVersion: '2024-08-06',
        decision: 'redact',
        policy: 'redact',
        promptDigest: sha(prompt),
        secrets: 1,
        'pii.email': 1,
        runId: 'run-9',
      },
    });
    const text = JSON.stringify(audit.events);
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain(SECRET);
  });

  it('throws EGRESS_AI_BLOCKED under policy block, after recording the decision', async () => {
    const err: unknown = await guard.check(context, model, `key ${SECRET}`, 'block').catch((e: unknown) => e);
    expect(isCustosError(err, 'EGRESS_AI_BLOCKED')).toBe(true);
    expect(JSON.stringify(err)).not.toContain(SECRET);
    expect(audit.events.at(-1)?.event).toMatchObject({ outcome: 'denied', details: { decision: 'block' } });
  });

  it('stops AI steps when the kill switch is engaged', async () => {
    disabled.add('acme');
    await expect(guard.check(context, model, 'hello there', 'block')).rejects.toMatchObject({
      code: 'EGRESS_AI_DISABLED',
    });
    expect(audit.events.at(-1)?.event).toMatchObject({
      outcome: 'denied',
      details: { decision: 'disabled' },
    });
    await expect(
      guard.check({ ...context, workspace: 'other' }, model, 'hello there', 'block'),
    ).resolves.toMatchObject({
      decision: 'allow',
    });
  });

  it('rejects malformed model identifiers', async () => {
    await expect(
      guard.check(context, { name: 'bad model', version: '1' }, 'hi', 'block'),
    ).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      details: { field: 'model' },
    });
    expect(audit.events).toEqual([]);
  });
});
