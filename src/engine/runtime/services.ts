// The capabilities a step attempt gets, bound to its run: outbound HTTP through the egress policy
// of the workflow's connector, vault secrets for that connector, the record store, subflows and the
// AI prompt gate. Capabilities an installation lacks fail with RUNTIME_SERVICE_UNAVAILABLE.
import type { JsonValue } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import {
  AiGuard,
  EgressClient,
  type AiKillSwitch,
  type ClassifiedField,
  type DevEgressConfig,
  type HostResolver,
} from '../../egress/index.ts';
import type { Actor, AuditSink } from '../../ledger/index.ts';
import type { Logger } from '../../observe/index.ts';
import type { SecretsVault } from '../../secrets/index.ts';
import type { WorkflowDefinition } from '../definition/types.ts';
import type {
  ConnectorRequest,
  ConnectorResponse,
  ExportReceipt,
  ExportRequest,
  RecordAccess,
  StepServices,
  SubflowAccess,
} from '../step-contract.ts';
import type { ServicesFactory, StepContext } from './workflows.ts';

/** Starts (idempotently per run and step) the child run of a subflow step, as `context`'s run. */
export type SubflowStarter = (
  context: StepContext,
  workflow: string,
  input: JsonValue,
) => ReturnType<SubflowAccess['start']>;

export interface ServiceDeps {
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly vault?: SecretsVault;
  /** The encrypting record store bound to a step's workspace and run. */
  readonly records?: (context: StepContext) => RecordAccess;
  /** Start (or find) a step's child run and say where it stands. */
  readonly subflow?: SubflowStarter;
  readonly aiKillSwitch?: AiKillSwitch;
  /** Custody exports run as the step's run (export steps). */
  readonly exports?: (
    context: StepContext,
    request: ExportRequest,
    signal: AbortSignal,
  ) => Promise<ExportReceipt>;
  /** Development allowance for egress (loopback, plain HTTP to these hosts); never in production. */
  readonly devEgress?: DevEgressConfig;
  readonly resolver?: HostResolver;
}

const RUNTIME_ACTOR: Actor = { kind: 'system', id: 'runtime' };

function unavailable(what: string): CustosError {
  return new CustosError('RUNTIME_SERVICE_UNAVAILABLE', `This installation provides no ${what} to steps`, {
    details: { field: 'services', rule: `${what} configured` },
  });
}

function egressFor(definition: WorkflowDefinition, deps: ServiceDeps): EgressClient {
  return new EgressClient({
    audit: deps.audit,
    policies: (connector) => {
      const c = definition.connectors?.[connector];
      return c === undefined
        ? undefined
        : { connector, allowedHosts: c.allowedHosts, clearance: c.clearance };
    },
    ...(deps.devEgress === undefined ? {} : { dev: deps.devEgress }),
    ...(deps.resolver === undefined ? {} : { resolver: deps.resolver }),
  });
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

function parseBody(body: Buffer, contentType: string | undefined): JsonValue {
  if (body.length === 0) return null;
  const text = body.toString('utf8');
  if (contentType !== undefined && /\bjson\b/i.test(contentType)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      return text;
    }
  }
  return text;
}

function flatHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Build the services factory; egress clients are kept per workflow definition. */
export function createServices(deps: ServiceDeps): ServicesFactory {
  const clients = new WeakMap<WorkflowDefinition, EgressClient>();
  const aiGuard =
    deps.aiKillSwitch === undefined
      ? undefined
      : new AiGuard({ audit: deps.audit, killSwitch: deps.aiKillSwitch });
  return (context) => {
    const egressContext = {
      workspace: context.workspaceId,
      actor: RUNTIME_ACTOR,
      correlationId: context.correlationId,
      runId: context.runId,
    };
    const http = async (request: ConnectorRequest, signal: AbortSignal): Promise<ConnectorResponse> => {
      const connector = context.definition.connectors?.[request.connector];
      if (connector === undefined) {
        throw new CustosError('EGRESS_CONNECTOR_UNKNOWN', 'Connector is not declared by the workflow', {
          details: { field: 'connector', rule: 'declared connector', connector: request.connector },
        });
      }
      let client = clients.get(context.definition);
      if (client === undefined) {
        client = egressFor(context.definition, deps);
        clients.set(context.definition, client);
      }
      const fields: ClassifiedField[] = Object.entries(request.classifications ?? {}).map(
        ([path, classification]) => ({
          path,
          classification,
        }),
      );
      const headers = {
        ...request.headers,
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
      };
      const response = await client.fetch(
        request.connector,
        {
          url: joinUrl(connector.baseUrl, request.path),
          method: request.method,
          headers,
          ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
          ...(fields.length === 0 ? {} : { fields }),
        },
        { context: egressContext, signal },
      );
      const flat = flatHeaders(response.headers);
      return { status: response.status, headers: flat, body: parseBody(response.body, flat['content-type']) };
    };
    const services: StepServices = {
      audit: deps.audit,
      logger: deps.logger.child({ runId: context.runId, step: context.stepId }),
      http,
      secret: async (name, connector) => {
        if (deps.vault === undefined) throw unavailable('secrets vault');
        return deps.vault.resolveForStep({
          workspace: context.workspaceId,
          name,
          connector,
          env: context.environment,
          runId: context.runId,
          correlationId: context.correlationId,
          actor: RUNTIME_ACTOR,
        });
      },
      records:
        deps.records?.(context) ??
        ({
          put: () => Promise.reject(unavailable('record store')),
          findBy: () => Promise.reject(unavailable('record store')),
        } satisfies RecordAccess),
      subflow: {
        start: (workflow, input) =>
          deps.subflow === undefined
            ? Promise.reject(unavailable('subflow runner'))
            : deps.subflow(context, workflow, input),
      },
      export: {
        exportBundle: (request, signal) =>
          deps.exports === undefined
            ? Promise.reject(unavailable('custody exports'))
            : deps.exports(context, request, signal),
      },
      aiGuard: {
        check: (model, prompt, policy) =>
          aiGuard === undefined
            ? Promise.reject(unavailable('AI guard'))
            : aiGuard.check(egressContext, model, prompt, policy),
      },
    };
    return services;
  };
}
