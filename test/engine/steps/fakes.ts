// In-memory StepServices and StepRuntime for executor tests: records every call, no database.
import { readFileSync } from 'node:fs';
import type { JsonValue } from '../../../src/crypto/index.ts';
import { CustosError } from '../../../src/errors/index.ts';
import type { AuditEvent, AuditSink } from '../../../src/ledger/index.ts';
import { parseWorkflow, type WorkflowDefinition } from '../../../src/engine/definition/index.ts';
import type {
  ChildRunState,
  ConnectorRequest,
  ConnectorResponse,
  ExportRequest,
  ExpressionScope,
  HeaderValue,
  PromptGuard,
  StepRuntime,
  StepServices,
} from '../../../src/engine/step-contract.ts';

export interface FakeServices extends StepServices {
  readonly requests: ConnectorRequest[];
  readonly secretLookups: { name: string; connector: string }[];
  readonly stored: { type: string; record: Readonly<Record<string, JsonValue>> }[];
  readonly subflows: { workflow: string; input: JsonValue }[];
  readonly guarded: { model: string; prompt: string; policy: string }[];
  readonly events: AuditEvent[];
  readonly exports: ExportRequest[];
}

export interface FakeOptions {
  /** Where the child run of a subflow step stands (default: succeeded, echoing its input). */
  readonly child?: ChildRunState;
  readonly respond?: (request: ConnectorRequest) => ConnectorResponse | Promise<ConnectorResponse>;
  readonly secrets?: Readonly<Record<string, string>>;
  readonly guard?: PromptGuard['check'];
  readonly now?: Date;
}

const silentLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
};

/** A pass-through guard that reports no findings. */
export const allowAllGuard: PromptGuard['check'] = (_model, prompt) =>
  Promise.resolve({
    decision: 'allow',
    prompt,
    promptDigest: 'digest',
    sentDigest: 'digest',
    findings: {},
    secrets: 0,
  });

export function fakeServices(options: FakeOptions = {}): FakeServices {
  const requests: ConnectorRequest[] = [];
  const secretLookups: { name: string; connector: string }[] = [];
  const stored: { type: string; record: Readonly<Record<string, JsonValue>> }[] = [];
  const subflows: { workflow: string; input: JsonValue }[] = [];
  const guarded: { model: string; prompt: string; policy: string }[] = [];
  const guard = options.guard ?? allowAllGuard;
  const events: AuditEvent[] = [];
  const exports: ExportRequest[] = [];
  const audit: AuditSink = {
    record: (_ledger, event) => {
      events.push(event);
      return Promise.resolve();
    },
  };
  return {
    events,
    exports,
    requests,
    secretLookups,
    stored,
    subflows,
    guarded,
    audit,
    logger: silentLogger,
    http: async (request) => {
      requests.push(request);
      return options.respond === undefined
        ? { status: 200, headers: {}, body: { ok: true } }
        : options.respond(request);
    },
    secret: (name, connector) => {
      secretLookups.push({ name, connector });
      const value = options.secrets?.[name];
      if (value === undefined) return Promise.reject(new CustosError('NOT_FOUND', 'no such secret'));
      return Promise.resolve({ reveal: () => value });
    },
    records: {
      put: (type, record) => {
        stored.push({ type, record });
        return Promise.resolve({ id: `rec-${stored.length}` });
      },
      findBy: (type, field, value) =>
        Promise.resolve(
          stored
            .map((s, i) => ({ s, id: `rec-${i + 1}` }))
            .filter(({ s }) => s.type === type && JSON.stringify(s.record[field]) === JSON.stringify(value))
            .map(({ id }) => ({ id })),
        ),
    },
    subflow: {
      start: (workflow, input) => {
        subflows.push({ workflow, input });
        const state = options.child ?? { status: 'succeeded', output: { child: workflow, received: input } };
        return Promise.resolve({ runId: '00000000-0000-4000-8000-00000000c0de', state });
      },
    },
    aiGuard: {
      check: (model, prompt, policy) => {
        guarded.push({ model: model.name, prompt, policy });
        return guard(model, prompt, policy);
      },
    },
    export: {
      exportBundle: (request) => {
        exports.push(request);
        return Promise.resolve({
          exportId: `exp-test-${exports.length}`,
          sha256: 'ab'.repeat(32),
          archived: true,
        });
      },
    },
    ...(options.now === undefined ? {} : { now: () => options.now ?? new Date() }),
  };
}

export function fakeRuntime(
  services: StepServices,
  scope: Partial<ExpressionScope> = {},
  extra: Partial<StepRuntime> = {},
): StepRuntime {
  return {
    workspaceId: 'ws1',
    runId: 'run-1',
    stepId: 'step',
    attempt: 1,
    correlationId: 'corr-1',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    idempotencyKey: 'run-1.3',
    signal: new AbortController().signal,
    scope: {
      input: scope.input ?? {},
      steps: scope.steps ?? {},
      run: scope.run ?? { id: 'run-1', workflow: 'wf', environment: 'test' },
    },
    services,
    ...extra,
  };
}

/** Reveal a header value the way egress does when it writes the request. */
export function revealHeader(value: HeaderValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.reveal();
}

export function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/workflows/${name}`, import.meta.url), 'utf8');
}

export function onboarding(): WorkflowDefinition {
  return parseWorkflow(fixture('onboarding.yaml'), { filename: 'onboarding.yaml' });
}

/** A minimal valid definition around the given steps, for focused tests. */
export function workflowWith(
  steps: readonly unknown[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    format: 'custos/workflow/v1',
    name: 'test-flow',
    version: '1.0.0',
    owner: 'team-test',
    trigger: { kind: 'manual' },
    retention: 'short',
    data: {
      fields: {
        email: { type: 'string', classification: 'restricted', category: 'email', indexed: true },
        name: { type: 'string', classification: 'confidential', category: 'custom:person_name' },
        plan: { type: 'string', classification: 'internal' },
        amount: { type: 'number', classification: 'internal' },
      },
    },
    secrets: ['API_TOKEN', 'TENANT'],
    connectors: {
      crm: {
        baseUrl: 'https://api.example.com/v1',
        allowedHosts: ['api.example.com'],
        auth: { kind: 'bearer', secret: 'API_TOKEN' },
        clearance: 'restricted',
      },
      open: {
        baseUrl: 'https://open.example.com',
        allowedHosts: ['open.example.com'],
        auth: { kind: 'none' },
        clearance: 'internal',
      },
    },
    steps,
    ...extra,
  };
}
