// Run API: deploy and list workflows, start runs (manual/API trigger), list and show them with their
// redacted step log, retry, cancel, decide approvals, and engage or release kill switches. Every
// route is declared with its Cedar action and JSON Schemas, so it is authorized before validation
// and documented in the OpenAPI document.
import type { FastifyPluginAsync } from 'fastify';
import type { JsonValue } from '../../crypto/index.ts';
import {
  deployWorkflow,
  installationRuntime,
  listWorkflows,
  RUN_STATUSES,
  workflowVersions,
  type InstallationRuntime,
  type RunStatus,
} from '../../engine/index.ts';
import { CustosError } from '../../errors/index.ts';
import type { Host } from '../../host/index.ts';
import type { KillSwitchScope } from '../../egress/index.ts';
import { apiRoute } from '../plugins/api-route.ts';
import { serverIamOf } from '../plugins/authn.ts';
import { body, list, params, TEXT, WORKSPACE_PARAM } from '../plugins/schemas.ts';

/** The installation runtime the run, hook and metrics routes share with the in-process worker. */
export function runtimeOf(host: Host): InstallationRuntime {
  return installationRuntime({
    store: host.store,
    keyring: host.keyring,
    audit: host.audit,
    logger: host.logger,
    custody: host,
  });
}

const ID = /^[a-z][a-z0-9-]{0,62}$/;
const RUN_ID = /^[0-9a-f-]{36}$/;

/** Check a path parameter against the id rule; never echo it. Throws INPUT_INVALID. */
export function pathId(value: string, field: string, kind: 'id' | 'run' = 'id'): string {
  if (!(kind === 'run' ? RUN_ID : ID).test(value)) {
    throw new CustosError('INPUT_INVALID', `${field} is not a valid identifier`, {
      details: { field, rule: kind === 'run' ? 'run id (UUID)' : '^[a-z][a-z0-9-]{0,62}$' },
    });
  }
  return value;
}

const MAX_SOURCE = 1024 * 1024;
const NAME = { type: 'string', pattern: ID.source };
const RUN = { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' };
const RUN_PARAMS = params({ runId: RUN });
const DEV = () => ({ environment: 'dev' });

const RUN_SUMMARY = {
  type: 'object',
  properties: {
    runId: { type: 'string' },
    workspaceId: { type: 'string' },
    environment: { type: 'string' },
    workflow: { type: 'string' },
    version: { type: 'integer' },
    owner: { type: 'string' },
    status: { enum: [...RUN_STATUSES] },
    trigger: { type: 'string' },
    correlationId: { type: 'string' },
    stepId: { type: ['string', 'null'] },
    attempt: { type: 'integer' },
    errorCode: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    endedAt: { type: ['string', 'null'] },
  },
};
const RUN_VIEW = {
  ...RUN_SUMMARY,
  properties: {
    ...RUN_SUMMARY.properties,
    steps: {
      type: 'array',
      description: 'The step log; summaries are redacted by classification before they are stored',
      items: { type: 'object' },
    },
  },
};
const WORKFLOW = {
  type: 'object',
  properties: {
    workflow: { type: 'string' },
    owner: { type: 'string' },
    latestVersion: { type: 'integer' },
    deployments: { type: 'array', items: { type: 'object' } },
  },
};
const WORKFLOW_VERSION = {
  type: 'object',
  properties: {
    workflow: { type: 'string' },
    version: { type: 'integer' },
    digest: { type: 'string' },
    owner: { type: 'string' },
    createdBy: { type: 'string' },
    createdAt: { type: 'string' },
    source: { type: 'string', description: 'The definition text (newest version only)' },
  },
};
const DEPLOYED = {
  type: 'object',
  properties: {
    workspaceId: { type: 'string' },
    environment: { type: 'string' },
    workflow: { type: 'string' },
    version: { type: 'integer' },
    digest: { type: 'string' },
    created: { type: 'boolean' },
    trigger: { type: 'object' },
    nextFireAt: { type: 'string' },
  },
};
const STARTED = {
  type: 'object',
  properties: {
    runId: { type: 'string' },
    created: { type: 'boolean' },
    status: { type: 'string' },
    correlationId: { type: 'string' },
  },
};
const KILL_SWITCH = {
  type: 'object',
  properties: {
    scopeKind: { enum: ['global', 'workspace', 'workflow', 'connector', 'ai'] },
    scopeId: { type: 'string' },
    state: { enum: ['engaged', 'released'] },
    changedBy: { type: 'string' },
    changedAt: { type: 'string' },
  },
};

export function runRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const iam = serverIamOf(host);
    const base = '/api/v1/workspaces/:workspace';

    apiRoute<{ workspace: string }>(app, iam, {
      method: 'GET',
      url: `${base}/workflows`,
      action: 'workflow.list',
      summary: 'Deployed workflows: latest version and what each environment serves',
      tags: ['workflows'],
      params: WORKSPACE_PARAM,
      responses: { 200: { description: 'Workflows', schema: list(WORKFLOW) } },
      handler: ({ params: p }) => listWorkflows(host.store, p.workspace),
    });
    apiRoute<{ workspace: string; workflow: string }>(app, iam, {
      method: 'GET',
      url: `${base}/workflows/:workflow`,
      action: 'workflow.read',
      summary: 'The immutable versions of one workflow, newest first, with the newest source',
      tags: ['workflows'],
      params: params({ workflow: NAME }),
      responses: { 200: { description: 'Versions', schema: list(WORKFLOW_VERSION) } },
      handler: ({ params: p }) => workflowVersions(host.store, p.workspace, p.workflow),
    });
    apiRoute<{ workspace: string }, Record<string, never>, { source: string; filename?: string }>(app, iam, {
      method: 'POST',
      url: `${base}/workflows`,
      action: 'workflow.deploy',
      summary: 'Validate and deploy a workflow definition (YAML or JSON) to dev',
      tags: ['workflows'],
      params: WORKSPACE_PARAM,
      body: body(
        {
          source: TEXT(MAX_SOURCE),
          filename: { type: 'string', pattern: '^[\\w.-]{1,100}$' },
        },
        ['source'],
      ),
      attributes: DEV,
      responses: {
        200: { description: 'Already the latest version; deployment refreshed', schema: DEPLOYED },
        201: { description: 'A new version stored and deployed', schema: DEPLOYED },
      },
      handler: async ({ params: p, body: b, actor, reply }) => {
        const result = await deployWorkflow(
          { store: host.store, audit: host.audit, compile: runtimeOf(host).compile },
          { workspaceId: p.workspace, source: b.source, filename: b.filename ?? 'workflow.yaml', actor },
        );
        return reply.code(result.created ? 201 : 200).send(result);
      },
    });
    apiRoute<
      { workspace: string; workflow: string },
      Record<string, never>,
      { input?: Record<string, JsonValue>; idempotencyKey?: string } | undefined
    >(app, iam, {
      method: 'POST',
      url: `${base}/workflows/:workflow/runs`,
      action: 'run.start',
      summary: 'Start a run of the deployed workflow (an Idempotency-Key header or field dedupes)',
      tags: ['runs'],
      params: params({ workflow: NAME }),
      body: body({
        input: { type: 'object', description: 'Run input, checked against the workflow data schema' },
        idempotencyKey: TEXT(200),
      }),
      attributes: DEV,
      responses: {
        200: { description: 'A run with this idempotency key exists already', schema: STARTED },
        202: { description: 'Run queued', schema: STARTED },
      },
      handler: async ({ params: p, body: b, request, reply, actor }) => {
        const header = request.headers['idempotency-key'];
        const key = b?.idempotencyKey ?? (typeof header === 'string' && header !== '' ? header : undefined);
        if (key !== undefined && key.length > 200) {
          throw new CustosError('API_VALIDATION_FAILED', 'idempotency-key is too long', {
            details: { field: 'header:/idempotency-key', rule: 'at most 200 characters' },
          });
        }
        const traceparent = request.headers.traceparent;
        const result = await runtimeOf(host).runtime.start({
          workspaceId: p.workspace,
          environment: 'dev',
          workflow: p.workflow,
          input: b?.input ?? {},
          trigger: 'api',
          actor,
          ...(key === undefined ? {} : { idempotencyKey: key }),
          ...(typeof traceparent === 'string' ? { traceparent } : {}),
        });
        return reply.code(result.created ? 202 : 200).send(result);
      },
    });
    apiRoute<{ workspace: string }, { workflow?: string; status?: RunStatus; limit?: number }>(app, iam, {
      method: 'GET',
      url: `${base}/runs`,
      action: 'run.list',
      summary: 'Runs of the workspace, newest first, filtered by workflow and status',
      tags: ['runs'],
      params: WORKSPACE_PARAM,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          workflow: NAME,
          status: { enum: [...RUN_STATUSES] },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
        },
      },
      responses: { 200: { description: 'Runs', schema: list(RUN_SUMMARY) } },
      handler: ({ params: p, query: q }) =>
        runtimeOf(host).runtime.list({
          workspaceId: p.workspace,
          limit: q.limit ?? 50,
          ...(q.workflow === undefined ? {} : { workflow: q.workflow }),
          ...(q.status === undefined ? {} : { status: q.status }),
        }),
    });
    apiRoute<{ workspace: string; runId: string }>(app, iam, {
      method: 'GET',
      url: `${base}/runs/:runId`,
      action: 'run.read',
      summary: 'One run with its redacted step log',
      tags: ['runs'],
      params: RUN_PARAMS,
      responses: { 200: { description: 'The run', schema: RUN_VIEW } },
      handler: ({ params: p }) => runtimeOf(host).runtime.show(p.workspace, p.runId),
    });
    for (const op of ['cancel', 'retry'] as const) {
      apiRoute<{ workspace: string; runId: string }>(app, iam, {
        method: 'POST',
        url: `${base}/runs/:runId/${op}`,
        action: op === 'cancel' ? 'run.cancel' : 'run.retry',
        summary: op === 'cancel' ? 'Cancel a run that has not ended' : 'Retry a dead-lettered or halted run',
        tags: ['runs'],
        params: RUN_PARAMS,
        responses: { 200: { description: 'The run', schema: RUN_SUMMARY } },
        handler: ({ params: p, actor }) => {
          const { runtime } = runtimeOf(host);
          return op === 'cancel'
            ? runtime.cancel(p.workspace, p.runId, actor)
            : runtime.retry(p.workspace, p.runId, actor);
        },
      });
    }
    apiRoute<
      { workspace: string; runId: string },
      Record<string, never>,
      { decision: 'approve' | 'reject'; reason: string; stepId?: string }
    >(app, iam, {
      method: 'POST',
      url: `${base}/runs/:runId/approval`,
      action: 'run.approve',
      summary: 'Approve or reject a waiting approval step (never one of your own runs)',
      tags: ['runs'],
      params: RUN_PARAMS,
      body: body(
        {
          decision: { enum: ['approve', 'reject'] },
          reason: TEXT(2000),
          stepId: { type: 'string', pattern: '^[a-zA-Z][a-zA-Z0-9_]{0,63}$' },
        },
        ['decision', 'reason'],
      ),
      responses: { 200: { description: 'The decision and the run', schema: { type: 'object' } } },
      handler: ({ params: p, body: b, actor, identity }) =>
        runtimeOf(host).runtime.decide({
          workspaceId: p.workspace,
          runId: p.runId,
          decision: b.decision,
          reason: b.reason,
          actor,
          roles: identity.roles,
          ...(b.stepId === undefined ? {} : { stepId: b.stepId }),
        }),
    });
    apiRoute<{ workspace: string }>(app, iam, {
      method: 'GET',
      url: `${base}/kill-switches`,
      action: 'killswitch.list',
      summary: 'Kill switches that apply to the workspace (installation-wide ones included)',
      tags: ['runs'],
      params: WORKSPACE_PARAM,
      responses: { 200: { description: 'Kill switches', schema: list(KILL_SWITCH) } },
      handler: async ({ params: p }) => {
        const ws = p.workspace;
        const all = await runtimeOf(host).killSwitches.list();
        return all.filter((k) => k.scopeId === '*' || k.scopeId === ws || k.scopeId.startsWith(`${ws}/`));
      },
    });
    apiRoute<
      { workspace: string },
      Record<string, never>,
      { scope: 'workspace' | 'workflow' | 'connector' | 'ai'; target?: string; engaged: boolean }
    >(app, iam, {
      method: 'PUT',
      url: `${base}/kill-switches`,
      action: 'killswitch.set',
      summary: 'Engage or release a kill switch for the workspace, a workflow, a connector or AI steps',
      tags: ['runs'],
      params: WORKSPACE_PARAM,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['scope', 'engaged'],
        properties: {
          scope: { enum: ['workspace', 'workflow', 'connector', 'ai'] },
          target: NAME,
          engaged: { type: 'boolean' },
        },
        allOf: [
          {
            if: { properties: { scope: { enum: ['workflow', 'connector'] } } },
            then: { required: ['target'] },
          },
        ],
      },
      responses: { 200: { description: 'The new state', schema: KILL_SWITCH } },
      handler: ({ params: p, body: b, actor }) => {
        const ws = p.workspace;
        const target = b.target ?? '';
        const scope: KillSwitchScope =
          b.scope === 'workflow'
            ? { kind: 'workflow', workspace: ws, workflow: target }
            : b.scope === 'connector'
              ? { kind: 'connector', workspace: ws, connector: target }
              : { kind: b.scope, workspace: ws };
        return runtimeOf(host).killSwitches.set(scope, b.engaged, actor);
      },
    });
    return Promise.resolve();
  };
}
