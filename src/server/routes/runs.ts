// Run API: start runs (manual/API trigger), list and show them with their redacted step log, retry,
// cancel and decide approvals, and deploy workflows to dev. Every route authenticates and is
// workspace-scoped.
import type { FastifyPluginAsync } from 'fastify';
import type { JsonValue } from '../../crypto/index.ts';
import {
  deployWorkflow,
  installationRuntime,
  RUN_STATUSES,
  type InstallationRuntime,
} from '../../engine/index.ts';
import { CustosError } from '../../errors/index.ts';
import type { Host } from '../../host/index.ts';
import type { KillSwitchScope } from '../../egress/index.ts';
import type { Actor } from '../../ledger/index.ts';
import { authenticate } from '../app.ts';

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

const READERS = ['admin', 'operator', 'auditor', 'builder'] as const;
const STARTERS = ['admin', 'operator', 'builder'] as const;
const OPERATORS = ['admin', 'operator'] as const;
const MAX_SOURCE = 1024 * 1024;

const REVIEWERS = ['reviewer', 'admin'] as const;

/**
 * Who acts: the principal's actor (a token's owner when it has one, so every credential of one
 * person is one actor, which separation of duties compares), else the installation token.
 */
function actorOf(identity: { readonly actor: Actor }): Actor {
  return identity.actor;
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new CustosError('INPUT_INVALID', 'Request body must be a JSON object', {
      details: { field: 'body', rule: 'object' },
    });
  }
  return body as Record<string, unknown>;
}

interface WsParams {
  workspace: string;
}
interface RunParams {
  workspace: string;
  runId: string;
}

export function runRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const base = '/api/v1/workspaces/:workspace';
    app.post<{ Params: WsParams & { workflow: string } }>(
      `${base}/workflows/:workflow/runs`,
      async (request, reply) => {
        const ws = pathId(request.params.workspace, 'workspace');
        const identity = await authenticate(host, request, STARTERS, ws);
        const body = bodyObject(request.body);
        const key = body.idempotencyKey ?? request.headers['idempotency-key'];
        if (key !== undefined && typeof key !== 'string') {
          throw new CustosError('INPUT_INVALID', 'idempotencyKey must be a string', {
            details: { field: 'idempotencyKey' },
          });
        }
        const traceparent = request.headers.traceparent;
        const result = await runtimeOf(host).runtime.start({
          workspaceId: ws,
          environment: 'dev',
          workflow: pathId(request.params.workflow, 'workflow'),
          input: (body.input ?? {}) as JsonValue,
          trigger: 'api',
          actor: actorOf(identity),
          ...(key === undefined ? {} : { idempotencyKey: key }),
          ...(typeof traceparent === 'string' ? { traceparent } : {}),
        });
        return reply.code(result.created ? 202 : 200).send(result);
      },
    );
    app.get<{ Params: WsParams; Querystring: { workflow?: string; status?: string; limit?: string } }>(
      `${base}/runs`,
      async (request) => {
        const ws = pathId(request.params.workspace, 'workspace');
        await authenticate(host, request, READERS, ws);
        const { workflow, status, limit } = request.query;
        if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) {
          throw new CustosError('INPUT_INVALID', 'status is not a run status', {
            details: { field: 'status', rule: RUN_STATUSES.join(', ') },
          });
        }
        const n = limit === undefined ? 50 : Number(limit);
        if (!Number.isInteger(n) || n < 1 || n > 1000) {
          throw new CustosError('INPUT_INVALID', 'limit must be 1..1000', {
            details: { field: 'limit', rule: '1..1000' },
          });
        }
        return runtimeOf(host).runtime.list({
          workspaceId: ws,
          limit: n,
          ...(workflow === undefined ? {} : { workflow: pathId(workflow, 'workflow') }),
          ...(status === undefined ? {} : { status }),
        });
      },
    );
    app.get<{ Params: RunParams }>(`${base}/runs/:runId`, async (request) => {
      const ws = pathId(request.params.workspace, 'workspace');
      await authenticate(host, request, READERS, ws);
      return runtimeOf(host).runtime.show(ws, pathId(request.params.runId, 'runId', 'run'));
    });
    for (const action of ['cancel', 'retry'] as const) {
      app.post<{ Params: RunParams }>(`${base}/runs/:runId/${action}`, async (request) => {
        const ws = pathId(request.params.workspace, 'workspace');
        const identity = await authenticate(host, request, OPERATORS, ws);
        const runId = pathId(request.params.runId, 'runId', 'run');
        const { runtime } = runtimeOf(host);
        const actor = actorOf(identity);
        return action === 'cancel' ? runtime.cancel(ws, runId, actor) : runtime.retry(ws, runId, actor);
      });
    }
    app.post<{ Params: RunParams }>(`${base}/runs/:runId/approval`, async (request) => {
      const ws = pathId(request.params.workspace, 'workspace');
      const identity = await authenticate(host, request, REVIEWERS, ws);
      const runId = pathId(request.params.runId, 'runId', 'run');
      const body = bodyObject(request.body);
      const { decision, reason, stepId } = body;
      if (decision !== 'approve' && decision !== 'reject') {
        throw new CustosError('INPUT_INVALID', 'decision must be approve or reject', {
          details: { field: 'decision', rule: 'approve | reject' },
        });
      }
      if (stepId !== undefined && typeof stepId !== 'string') {
        throw new CustosError('INPUT_INVALID', 'stepId must be a step id', {
          details: { field: 'stepId', rule: 'string' },
        });
      }
      if (typeof reason !== 'string') {
        throw new CustosError('INPUT_INVALID', 'reason must be a string', {
          details: { field: 'reason', rule: 'string' },
        });
      }
      return runtimeOf(host).runtime.decide({
        workspaceId: ws,
        runId,
        decision,
        reason,
        actor: actorOf(identity),
        roles: identity.roles,
        ...(typeof stepId === 'string' ? { stepId } : {}),
      });
    });
    app.post<{ Params: WsParams }>(`${base}/workflows`, async (request, reply) => {
      const ws = pathId(request.params.workspace, 'workspace');
      const identity = await authenticate(host, request, ['admin'], ws);
      const body = bodyObject(request.body);
      const source = body.source;
      if (typeof source !== 'string' || source.length === 0 || source.length > MAX_SOURCE) {
        throw new CustosError('INPUT_INVALID', 'source must be the workflow definition text', {
          details: { field: 'source', rule: `string of 1..${MAX_SOURCE} characters` },
        });
      }
      const filename =
        typeof body.filename === 'string' && /^[\w.-]{1,100}$/.test(body.filename)
          ? body.filename
          : 'workflow.yaml';
      const result = await deployWorkflow(
        { store: host.store, audit: host.audit, compile: runtimeOf(host).compile },
        { workspaceId: ws, source, filename, actor: actorOf(identity) },
      );
      return reply.code(result.created ? 201 : 200).send(result);
    });
    app.get<{ Params: WsParams }>(`${base}/kill-switches`, async (request) => {
      const ws = pathId(request.params.workspace, 'workspace');
      await authenticate(host, request, ['admin', 'operator', 'auditor'], ws);
      const all = await runtimeOf(host).killSwitches.list();
      return all.filter((k) => k.scopeId === '*' || k.scopeId === ws || k.scopeId.startsWith(`${ws}/`));
    });
    app.put<{ Params: WsParams }>(`${base}/kill-switches`, async (request) => {
      const ws = pathId(request.params.workspace, 'workspace');
      const identity = await authenticate(host, request, ['admin'], ws);
      const body = bodyObject(request.body);
      if (typeof body.engaged !== 'boolean') {
        throw new CustosError('INPUT_INVALID', 'engaged must be true or false', {
          details: { field: 'engaged', rule: 'boolean' },
        });
      }
      const target = typeof body.target === 'string' ? body.target : '';
      let scope: KillSwitchScope;
      switch (body.scope) {
        case 'workspace':
          scope = { kind: 'workspace', workspace: ws };
          break;
        case 'workflow':
          scope = { kind: 'workflow', workspace: ws, workflow: target };
          break;
        case 'connector':
          scope = { kind: 'connector', workspace: ws, connector: target };
          break;
        case 'ai':
          scope = { kind: 'ai', workspace: ws };
          break;
        default:
          throw new CustosError('INPUT_INVALID', 'scope must be workspace, workflow, connector or ai', {
            details: { field: 'scope', rule: 'workspace | workflow | connector | ai' },
          });
      }
      return runtimeOf(host).killSwitches.set(scope, body.engaged, actorOf(identity));
    });
    return Promise.resolve();
  };
}
