// Stored export definitions: every save is a new immutable version with its digest; exports name
// the version they ran, so a bundle's provenance points at exactly the rules that produced it.
import { CustosError } from '../../errors/index.ts';
import type { AuditSink } from '../../ledger/index.ts';
import { nowIso, type Store } from '../../store/index.ts';
import { actorName } from '../archive/archive.ts';
import { custodyEvent } from '../events.ts';
import { requireRole, type Caller } from '../roles.ts';
import {
  parseDefinitionSpec,
  specBytes,
  specDigest,
  type ExportDefinition,
  type ExportDefinitionSpec,
} from './definition.ts';

export class Definitions {
  readonly #store: Store;
  readonly #audit: AuditSink;

  constructor(options: { store: Store; audit: AuditSink }) {
    this.#store = options.store;
    this.#audit = options.audit;
  }

  /** Save a new version (admin only). Re-saving an identical spec returns the existing version. */
  async save(workspaceId: string, value: unknown, caller: Caller): Promise<ExportDefinition> {
    requireRole(caller, ['admin'], 'define exports');
    const spec = parseDefinitionSpec(value);
    const digest = specDigest(spec);
    const latest = await this.find(workspaceId, spec.name);
    if (latest?.digest === digest) return latest;
    const version = (latest?.version ?? 0) + 1;
    try {
      await this.#store.db
        .insertInto('custody_definitions')
        .values({
          workspace_id: workspaceId,
          name: spec.name,
          version,
          spec: specBytes(spec).toString('utf8'),
          digest,
          created_at: nowIso(),
          created_by: actorName(caller),
        })
        .execute();
    } catch (cause) {
      throw new CustosError(
        'STORE_CONFLICT',
        'Another version of this definition was saved at the same time',
        { cause, details: { field: 'name', rule: 'one save at a time' } },
      );
    }
    await this.#audit.record(
      workspaceId,
      custodyEvent({
        action: 'custody.definition.saved',
        actor: caller.actor,
        details: { definition: spec.name, version, digest },
      }),
    );
    return this.get(workspaceId, spec.name, version);
  }

  /** The newest version, or undefined. */
  async find(workspaceId: string, name: string): Promise<ExportDefinition | undefined> {
    const row = await this.#store.db
      .selectFrom('custody_definitions')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('name', '=', name)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : this.#toDefinition(row);
  }

  /** A version (the newest when omitted). Throws CUSTODY_DEFINITION_NOT_FOUND. */
  async get(workspaceId: string, name: string, version?: number): Promise<ExportDefinition> {
    let q = this.#store.db
      .selectFrom('custody_definitions')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('name', '=', name);
    if (version !== undefined) q = q.where('version', '=', version);
    const row = await q.orderBy('version', 'desc').limit(1).executeTakeFirst();
    if (row === undefined) {
      throw new CustosError(
        'CUSTODY_DEFINITION_NOT_FOUND',
        `No export definition ${name}${version === undefined ? '' : ` version ${version}`}`,
        {
          details: { field: '--definition', rule: 'a saved export definition' },
        },
      );
    }
    return this.#toDefinition(row);
  }

  /** Newest version of every definition. */
  async list(workspaceId: string): Promise<ExportDefinition[]> {
    const rows = await this.#store.db
      .selectFrom('custody_definitions')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('name')
      .orderBy('version', 'desc')
      .execute();
    const seen = new Set<string>();
    return rows.filter((r) => !seen.has(r.name) && seen.add(r.name)).map((r) => this.#toDefinition(r));
  }

  #toDefinition(row: {
    workspace_id: string;
    name: string;
    version: number;
    spec: string;
    digest: string;
    created_at: string;
    created_by: string;
  }): ExportDefinition {
    const spec: ExportDefinitionSpec = parseDefinitionSpec(JSON.parse(row.spec));
    return {
      ...spec,
      workspaceId: row.workspace_id,
      version: row.version,
      digest: row.digest,
      createdAt: row.created_at,
      createdBy: row.created_by,
    };
  }
}
