// Kill switches: an operator stops everything, a workspace, a workflow, a connector, or AI steps
// (per workspace or globally). The state lives in one small table; every change is a ledger event.
import type { Kysely } from 'kysely';
import { CustosError } from '../errors/index.ts';
import type { Actor, AuditSink } from '../ledger/index.ts';
import type { Database } from '../store/index.ts';
import { nowIso } from '../store/index.ts';
import { CONNECTOR_ID } from './connector-policy.ts';

type KillSwitchScopeColumn = Database['kill_switches']['scope_kind'];

export type KillSwitchScope =
  | { readonly kind: 'global' }
  | { readonly kind: 'workspace'; readonly workspace: string }
  | { readonly kind: 'workflow'; readonly workspace: string; readonly workflow: string }
  | { readonly kind: 'connector'; readonly workspace: string; readonly connector: string }
  /** AI steps: in one workspace, or everywhere when `workspace` is absent. */
  | { readonly kind: 'ai'; readonly workspace?: string };

export interface KillSwitchState {
  readonly scopeKind: KillSwitchScopeColumn;
  readonly scopeId: string;
  readonly state: 'engaged' | 'released';
  readonly changedBy: string;
  readonly changedAt: string;
}

const ID = /^[a-z][a-z0-9-]{0,62}$/;
const WORKFLOW = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ALL = '*';

function checkId(value: string, pattern: RegExp, field: string): string {
  if (!pattern.test(value)) {
    throw new CustosError('INPUT_INVALID', `${field} is not a valid id`, {
      details: { field, rule: pattern.source },
    });
  }
  return value;
}

/** The stored (kind, id) of a scope. Throws INPUT_INVALID naming the bad id. */
export function scopeKey(scope: KillSwitchScope): { kind: KillSwitchScopeColumn; id: string } {
  switch (scope.kind) {
    case 'global':
      return { kind: 'global', id: ALL };
    case 'workspace':
      return { kind: 'workspace', id: checkId(scope.workspace, ID, 'workspace') };
    case 'workflow':
      return {
        kind: 'workflow',
        id: `${checkId(scope.workspace, ID, 'workspace')}/${checkId(scope.workflow, WORKFLOW, 'workflow')}`,
      };
    case 'connector':
      return {
        kind: 'connector',
        id: `${checkId(scope.workspace, ID, 'workspace')}/${checkId(scope.connector, CONNECTOR_ID, 'connector')}`,
      };
    case 'ai':
      return {
        kind: 'ai',
        id: scope.workspace === undefined ? ALL : checkId(scope.workspace, ID, 'workspace'),
      };
  }
}

export interface KillSwitchesOptions {
  readonly db: Kysely<Database>;
  readonly audit: AuditSink;
}

/** Reads and flips kill switches. */
export class KillSwitches {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditSink;

  constructor(options: KillSwitchesOptions) {
    this.#db = options.db;
    this.#audit = options.audit;
  }

  /** Engage (true) or release (false) a switch; records `killswitch.engage|release`. Throws INPUT_INVALID. */
  async set(scope: KillSwitchScope, engaged: boolean, actor: Actor): Promise<KillSwitchState> {
    const { kind, id } = scopeKey(scope);
    const row = {
      scope_kind: kind,
      scope_id: id,
      state: engaged ? ('engaged' as const) : ('released' as const),
      changed_by: `${actor.kind}:${actor.id}`,
      changed_at: nowIso(),
    };
    await this.#db
      .insertInto('kill_switches')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['scope_kind', 'scope_id']).doUpdateSet({
          state: row.state,
          changed_by: row.changed_by,
          changed_at: row.changed_at,
        }),
      )
      .execute();
    const ledger = 'workspace' in scope && scope.workspace !== undefined ? scope.workspace : 'system';
    await this.#audit.record(ledger, {
      time: row.changed_at,
      actor,
      action: engaged ? 'killswitch.engage' : 'killswitch.release',
      resource: { kind: `killswitch.${kind}`, id },
      outcome: 'success',
    });
    return {
      scopeKind: kind,
      scopeId: id,
      state: row.state,
      changedBy: row.changed_by,
      changedAt: row.changed_at,
    };
  }

  /** Every switch that was ever set, engaged or not. */
  async list(): Promise<KillSwitchState[]> {
    const rows = await this.#db
      .selectFrom('kill_switches')
      .selectAll()
      .orderBy('scope_kind')
      .orderBy('scope_id')
      .execute();
    return rows.map((r) => ({
      scopeKind: r.scope_kind,
      scopeId: r.scope_id,
      state: r.state,
      changedBy: r.changed_by,
      changedAt: r.changed_at,
    }));
  }

  async #anyEngaged(keys: readonly { kind: KillSwitchScopeColumn; id: string }[]): Promise<boolean> {
    const rows = await this.#db
      .selectFrom('kill_switches')
      .select(['scope_kind', 'scope_id'])
      .where('state', '=', 'engaged')
      .where((eb) =>
        eb.or(keys.map((k) => eb.and([eb('scope_kind', '=', k.kind), eb('scope_id', '=', k.id)]))),
      )
      .execute();
    return rows.length > 0;
  }

  /** True when this exact switch is engaged. Throws INPUT_INVALID. */
  async isEngaged(scope: KillSwitchScope): Promise<boolean> {
    return this.#anyEngaged([scopeKey(scope)]);
  }

  /**
   * True when AI steps may not run in `workspace`: the global switch, the workspace switch, the
   * global AI switch or the workspace's AI switch is engaged. Throws INPUT_INVALID.
   */
  async isAiDisabled(workspace: string): Promise<boolean> {
    return this.#anyEngaged([
      scopeKey({ kind: 'global' }),
      scopeKey({ kind: 'workspace', workspace }),
      scopeKey({ kind: 'ai' }),
      scopeKey({ kind: 'ai', workspace }),
    ]);
  }
}
