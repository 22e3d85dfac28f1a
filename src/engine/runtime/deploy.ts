// Deploying a workflow source to an environment (dev for now: reviews and promotion come with
// release/): validate and compile, store an immutable version, point the environment at it,
// register its schedule, audit. Also the store-backed resolver runs use to find their version.
import { sha256Hex } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import type { Actor, AuditSink } from '../../ledger/index.ts';
import type { Store } from '../../store/index.ts';
import type { WorkflowCompiler } from './compile.ts';
import { nextFire, parseCron } from './triggers/cron.ts';
import type { CompiledTrigger, CompiledWorkflow } from './types.ts';
import type { WorkflowResolver } from './workflows.ts';

/** Environments a deploy may target in this release. */
export const DEPLOY_ENVIRONMENTS = ['dev'] as const;

export interface DeployDeps {
  readonly store: Store;
  readonly audit: AuditSink;
  readonly compile: WorkflowCompiler;
  readonly clock?: () => number;
}

export interface DeployRequest {
  readonly workspaceId: string;
  readonly source: string;
  readonly filename: string;
  readonly actor: Actor;
  readonly environment?: string;
}

export interface DeployResult {
  readonly workspaceId: string;
  readonly environment: string;
  readonly workflow: string;
  readonly version: number;
  readonly digest: string;
  /** False when the same source was already the latest version (nothing new stored). */
  readonly created: boolean;
  readonly trigger: CompiledTrigger;
  readonly nextFireAt?: string;
}

/**
 * Deploy `source`. Throws the definition's validation errors (nothing is stored then),
 * INPUT_INVALID for an environment other than dev, RUNTIME_CRON_INVALID.
 */
export async function deployWorkflow(deps: DeployDeps, request: DeployRequest): Promise<DeployResult> {
  const environment = request.environment ?? 'dev';
  if (!(DEPLOY_ENVIRONMENTS as readonly string[]).includes(environment)) {
    throw new CustosError('INPUT_INVALID', 'Only the dev environment can be deployed to directly', {
      details: { field: 'environment', rule: DEPLOY_ENVIRONMENTS.join(', ') },
    });
  }
  const compiled = deps.compile(request.source, request.filename);
  const digest = sha256Hex(Buffer.from(request.source, 'utf8'));
  const now = deps.clock?.() ?? Date.now();
  const at = new Date(now).toISOString();
  const actor = `${request.actor.kind}:${request.actor.id}`;
  const trigger = compiled.trigger;
  const nextFireAt =
    trigger.kind === 'schedule'
      ? new Date(nextFire(parseCron(trigger.cron), now, trigger.timezone)).toISOString()
      : undefined;
  const { version, created } = await deps.store.db.transaction().execute(async (trx) => {
    const latest = await trx
      .selectFrom('workflow_versions')
      .select(['version', 'digest'])
      .where('workspace_id', '=', request.workspaceId)
      .where('name', '=', compiled.name)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    let version = latest?.version ?? 0;
    const fresh = latest?.digest !== digest;
    if (fresh) {
      version += 1;
      await trx
        .insertInto('workflow_versions')
        .values({
          workspace_id: request.workspaceId,
          name: compiled.name,
          version,
          digest,
          source: request.source,
          owner: compiled.owner,
          created_by: actor,
          created_at: at,
        })
        .execute();
    }
    await trx
      .insertInto('workflow_deployments')
      .values({
        workspace_id: request.workspaceId,
        environment,
        name: compiled.name,
        version,
        deployed_by: actor,
        deployed_at: at,
      })
      .onConflict((oc) =>
        oc
          .columns(['workspace_id', 'environment', 'name'])
          .doUpdateSet({ version, deployed_by: actor, deployed_at: at }),
      )
      .execute();
    const schedule = trx
      .deleteFrom('schedules')
      .where('workspace_id', '=', request.workspaceId)
      .where('environment', '=', environment)
      .where('workflow', '=', compiled.name);
    await schedule.execute();
    if (trigger.kind === 'schedule' && nextFireAt !== undefined) {
      await trx
        .insertInto('schedules')
        .values({
          workspace_id: request.workspaceId,
          environment,
          workflow: compiled.name,
          cron: trigger.cron,
          timezone: trigger.timezone ?? 'UTC',
          next_at: nextFireAt,
          updated_at: at,
        })
        .execute();
    }
    return { version, created: fresh };
  });
  await deps.audit.record(request.workspaceId, {
    time: at,
    actor: request.actor,
    action: 'workflow.deploy',
    resource: { kind: 'workflow', id: `${compiled.name}@${version}` },
    outcome: 'success',
    details: { environment, version, digest, created },
  });
  return {
    workspaceId: request.workspaceId,
    environment,
    workflow: compiled.name,
    version,
    digest,
    created,
    trigger,
    ...(nextFireAt === undefined ? {} : { nextFireAt }),
  };
}

function notDeployed(): CustosError {
  return new CustosError(
    'RUNTIME_WORKFLOW_NOT_DEPLOYED',
    'The workflow is not deployed in this environment',
    {
      details: { field: 'workflow', rule: 'deployed workflow' },
    },
  );
}

/** Resolves workflows from the store; versions are immutable, so compiled ones are cached. */
export function storeWorkflows(store: Store, compile: WorkflowCompiler, cacheSize = 256): WorkflowResolver {
  const cache = new Map<string, CompiledWorkflow>();
  const version = async (workspaceId: string, name: string, v: number): Promise<CompiledWorkflow> => {
    const key = `${workspaceId}\u0000${name}\u0000${v}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const row = await store.db
      .selectFrom('workflow_versions')
      .select('source')
      .where('workspace_id', '=', workspaceId)
      .where('name', '=', name)
      .where('version', '=', v)
      .executeTakeFirst();
    if (row === undefined) throw notDeployed();
    const compiled = compile(row.source, `${name}@${v}`);
    if (cache.size >= cacheSize) cache.clear();
    cache.set(key, compiled);
    return compiled;
  };
  return {
    async deployed(workspaceId, environment, name) {
      const row = await store.db
        .selectFrom('workflow_deployments')
        .select('version')
        .where('workspace_id', '=', workspaceId)
        .where('environment', '=', environment)
        .where('name', '=', name)
        .executeTakeFirst();
      if (row === undefined) throw notDeployed();
      return { version: row.version, workflow: await version(workspaceId, name, row.version) };
    },
    version,
  };
}

/** A deployed workflow as listings show it: its versions and what each environment serves. */
export interface WorkflowSummary {
  readonly workflow: string;
  readonly owner: string;
  readonly latestVersion: number;
  readonly deployments: readonly {
    environment: string;
    version: number;
    deployedBy: string;
    deployedAt: string;
  }[];
}

/** One immutable version; `source` only when asked for (definitions hold no secret values). */
export interface WorkflowVersionView {
  readonly workflow: string;
  readonly version: number;
  readonly digest: string;
  readonly owner: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly source?: string;
}

/** Every workflow of a workspace with its latest version and deployments, by name. */
export async function listWorkflows(store: Store, workspaceId: string): Promise<WorkflowSummary[]> {
  const versions = await store.db
    .selectFrom('workflow_versions')
    .select(['name', 'version', 'owner'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('name')
    .orderBy('version')
    .execute();
  const deployments = await store.db
    .selectFrom('workflow_deployments')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('environment')
    .execute();
  const out = new Map<string, { owner: string; latestVersion: number }>();
  for (const v of versions) out.set(v.name, { owner: v.owner, latestVersion: v.version });
  return [...out].map(([workflow, v]) => ({
    workflow,
    ...v,
    deployments: deployments
      .filter((d) => d.name === workflow)
      .map((d) => ({
        environment: d.environment,
        version: d.version,
        deployedBy: d.deployed_by,
        deployedAt: d.deployed_at,
      })),
  }));
}

/** The versions of one workflow, newest first, with the source of the newest. Throws RUNTIME_WORKFLOW_NOT_DEPLOYED. */
export async function workflowVersions(
  store: Store,
  workspaceId: string,
  workflow: string,
): Promise<WorkflowVersionView[]> {
  const rows = await store.db
    .selectFrom('workflow_versions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('name', '=', workflow)
    .orderBy('version', 'desc')
    .execute();
  if (rows.length === 0) throw notDeployed();
  return rows.map((r, i) => ({
    workflow: r.name,
    version: r.version,
    digest: r.digest,
    owner: r.owner,
    createdBy: r.created_by,
    createdAt: r.created_at,
    ...(i === 0 ? { source: r.source } : {}),
  }));
}
