// The AI guard: a prompt reaches a model only after the secret scrubber and the PII detectors,
// blocked or redacted per policy, with model, digest and decision on the ledger; a kill switch stops it.
import { sha256Hex } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import type { AuditSink } from '../ledger/index.ts';
import { scrubSecrets, SCRUBBED } from '../observe/index.ts';
import { redactText, scanText, type ScanOptions } from '../privacy/detect/index.ts';
import type { EgressContext } from './context.ts';
import { withCorrelation } from '../ledger/index.ts';

export type PromptPolicyMode = 'block' | 'redact';

export interface PromptPolicy {
  /** `block`: refuse a prompt holding any secret or PII; `redact`: replace them and send the rest. */
  readonly mode: PromptPolicyMode;
  /** Detector selection (categories, custom patterns, minimum confidence); default all built-ins. */
  readonly scan?: ScanOptions;
}

export interface PromptGuardResult {
  readonly decision: 'allow' | 'redact' | 'block';
  /** What may be sent to the model; undefined when blocked. */
  readonly prompt: string | undefined;
  /** SHA-256 (hex) of the prompt as the step produced it. */
  readonly promptDigest: string;
  /** SHA-256 (hex) of what may be sent; undefined when blocked. */
  readonly sentDigest: string | undefined;
  /** Detected PII per category (counts only). */
  readonly findings: Readonly<Record<string, number>>;
  /** Registered secret values found (and removed) in the prompt. */
  readonly secrets: number;
}

export interface AiModel {
  readonly name: string;
  readonly version: string;
}

export const MAX_PROMPT_CHARS = 1_000_000;
const MODEL_PART = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$/;

function count(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

/**
 * Judge a prompt under `policy` (pure: no ledger, no kill switch). Secrets registered with the
 * scrubber are removed first, then PII is detected in what remains. Throws EGRESS_REQUEST_TOO_LARGE.
 */
export function guardPrompt(prompt: string, policy: PromptPolicyMode | PromptPolicy): PromptGuardResult {
  if (prompt.length > MAX_PROMPT_CHARS) {
    throw new CustosError('EGRESS_REQUEST_TOO_LARGE', 'Prompt exceeds the size limit', {
      details: { field: 'prompt', rule: `at most ${MAX_PROMPT_CHARS} characters` },
    });
  }
  const p: PromptPolicy = typeof policy === 'string' ? { mode: policy } : policy;
  const promptDigest = sha256Hex(prompt);
  const scrubbed = scrubSecrets(prompt);
  const secrets = count(scrubbed, SCRUBBED) - count(prompt, SCRUBBED);
  const scan = scanText(scrubbed, p.scan);
  const findings: Record<string, number> = {};
  for (const f of scan.findings) findings[f.category] = (findings[f.category] ?? 0) + 1;
  const clean = secrets === 0 && scan.findings.length === 0;
  if (clean) return { decision: 'allow', prompt, promptDigest, sentDigest: promptDigest, findings, secrets };
  if (p.mode === 'block') {
    return { decision: 'block', prompt: undefined, promptDigest, sentDigest: undefined, findings, secrets };
  }
  const sent = scan.findings.length === 0 ? scrubbed : redactText(scrubbed, scan.findings, 'label');
  return { decision: 'redact', prompt: sent, promptDigest, sentDigest: sha256Hex(sent), findings, secrets };
}

/** Answers whether AI steps are switched off for a workspace (see KillSwitches.isAiDisabled). */
export interface AiKillSwitch {
  isAiDisabled(workspace: string): Promise<boolean>;
}

export interface AiGuardOptions {
  readonly audit: AuditSink;
  readonly killSwitch: AiKillSwitch;
}

/** The gate every AI step passes before its prompt leaves. */
export class AiGuard {
  readonly #audit: AuditSink;
  readonly #kill: AiKillSwitch;

  constructor(options: AiGuardOptions) {
    this.#audit = options.audit;
    this.#kill = options.killSwitch;
  }

  async #record(
    context: EgressContext,
    model: AiModel,
    details: Record<string, string | number>,
    denied: boolean,
  ) {
    await this.#audit.record(context.workspace, {
      time: new Date().toISOString(),
      actor: context.actor,
      action: 'ai.prompt.decision',
      resource: { kind: 'ai-model', id: `${model.name}@${model.version}` },
      outcome: denied ? 'denied' : 'success',
      ...withCorrelation(context.correlationId),
      details: {
        model: model.name,
        modelVersion: model.version,
        ...details,
        ...(context.runId === undefined ? {} : { runId: context.runId }),
      },
    });
  }

  /**
   * Check the kill switch, judge the prompt and record `ai.prompt.decision`. Returns the prompt to send.
   * Throws INPUT_INVALID (model name/version), EGRESS_AI_DISABLED (kill switch engaged),
   * EGRESS_AI_BLOCKED (policy `block` and the prompt holds secrets or PII), EGRESS_REQUEST_TOO_LARGE.
   */
  async check(
    context: EgressContext,
    model: AiModel,
    prompt: string,
    policy: PromptPolicyMode | PromptPolicy,
  ): Promise<PromptGuardResult & { readonly prompt: string }> {
    for (const [field, value] of [
      ['model', model.name],
      ['modelVersion', model.version],
    ] as const) {
      if (!MODEL_PART.test(value)) {
        throw new CustosError('INPUT_INVALID', `${field} is not a valid model identifier`, {
          details: { field, rule: MODEL_PART.source },
        });
      }
    }
    if (await this.#kill.isAiDisabled(context.workspace)) {
      await this.#record(context, model, { decision: 'disabled', promptDigest: sha256Hex(prompt) }, true);
      throw new CustosError('EGRESS_AI_DISABLED', 'AI steps are switched off by a kill switch', {
        details: { rule: 'AI kill switch released', workspace: context.workspace },
      });
    }
    const result = guardPrompt(prompt, policy);
    const mode = typeof policy === 'string' ? policy : policy.mode;
    await this.#record(
      context,
      model,
      {
        decision: result.decision,
        policy: mode,
        promptDigest: result.promptDigest,
        ...(result.sentDigest === undefined ? {} : { sentDigest: result.sentDigest }),
        secrets: result.secrets,
        ...Object.fromEntries(Object.entries(result.findings).map(([k, v]) => [`pii.${k}`, v])),
      },
      result.decision === 'block',
    );
    if (result.prompt === undefined) {
      throw new CustosError(
        'EGRESS_AI_BLOCKED',
        'Prompt holds secrets or personal data and the policy blocks it',
        {
          details: {
            field: 'prompt',
            rule: 'no secrets or PII (policy block)',
            categories: Object.keys(result.findings),
            secrets: result.secrets,
          },
        },
      );
    }
    return { ...result, prompt: result.prompt };
  }
}
