// Kill switches per workspace, workflow and connector: while one is engaged new runs are refused
// and in-flight runs halt before their next step. Switching (egress/ KillSwitches) is admin-only and audited.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/index.ts';

type KillSwitchScopeColumn = Database['kill_switches']['scope_kind'];
export interface KillSwitchQuery {
  readonly workspaceId: string;
  readonly workflow: string;
  /** Connectors the next step calls out through (none for local steps). */
  readonly connectors: readonly string[];
}

/** Answers "is this work stopped?" with the engaged switch as `scope:target`, or undefined. */
export interface KillSwitchProbe {
  engaged(query: KillSwitchQuery): Promise<string | undefined>;
}

/** No switches at all (unit tests of the runtime alone). */
export const NO_KILL_SWITCHES: KillSwitchProbe = { engaged: () => Promise.resolve(undefined) };

/**
 * The probe over the `kill_switches` table egress/ owns (global, workspace, workflow, connector
 * scopes). One indexed query per check, so a switch takes effect before the very next step.
 */
export function storeKillSwitches(db: Kysely<Database>): KillSwitchProbe {
  return {
    async engaged(query) {
      const keys: { kind: KillSwitchScopeColumn; id: string }[] = [
        { kind: 'global', id: '*' },
        { kind: 'workspace', id: query.workspaceId },
        { kind: 'workflow', id: `${query.workspaceId}/${query.workflow}` },
        ...query.connectors.map((c) => ({ kind: 'connector' as const, id: `${query.workspaceId}/${c}` })),
      ];
      const row = await db
        .selectFrom('kill_switches')
        .select(['scope_kind', 'scope_id'])
        .where('state', '=', 'engaged')
        .where((eb) =>
          eb.or(keys.map((k) => eb.and([eb('scope_kind', '=', k.kind), eb('scope_id', '=', k.id)]))),
        )
        .limit(1)
        .executeTakeFirst();
      return row === undefined ? undefined : `${row.scope_kind}:${row.scope_id}`;
    },
  };
}
