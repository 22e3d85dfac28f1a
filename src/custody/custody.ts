// The custody services of one installation, built from what the host already opened: export keys,
// definitions, the archive (filesystem or database backend, optional replica) and the scrubber.
import { isAbsolute, join } from 'node:path';
import type { CustosConfig } from '../config/index.ts';
import type { Actor, AuditSink, Ledgers } from '../ledger/index.ts';
import type { Store } from '../store/index.ts';
import { Archive } from './archive/archive.ts';
import type { BlobBackend } from './archive/backend.ts';
import { DbBackend } from './archive/db-backend.ts';
import { FsBackend } from './archive/fs-backend.ts';
import { Definitions } from './definitions/definitions.ts';
import { ExportKeys, type SealingProvider } from './export-keys.ts';
import { Scrubber, type ScrubAlert } from './scrubber.ts';

export interface CustodySettings {
  /** `fs` (embedded default) or `db` (the database; the cluster default). */
  readonly archiveBackend: 'fs' | 'db';
  /** Directory of the filesystem backend. */
  readonly archiveDir: string;
  /** A second filesystem location holding a copy of every blob, used for repairs. */
  readonly replicaDir?: string;
  /** Share of the archive re-hashed per scheduled scrub. */
  readonly scrubSample: number;
}

export interface CustodyHost {
  readonly store: Store;
  readonly root: SealingProvider;
  readonly audit: AuditSink;
  readonly ledgers: Ledgers;
  readonly paths: { readonly dataDir: string };
  readonly config?: { readonly custody: CustosConfig['custody'] };
}

export interface Custody {
  readonly keys: ExportKeys;
  readonly definitions: Definitions;
  readonly archive: Archive;
  scrubber(actor: Actor, onAlert?: (alert: ScrubAlert) => void): Scrubber;
}

/**
 * Settings from the config's `custody` section; without one, a filesystem archive under the data
 * directory (SQLite) or the database (PostgreSQL).
 */
export function defaultCustodySettings(host: CustodyHost): CustodySettings {
  const c = host.config?.custody;
  const resolveDir = (dir: string) => (isAbsolute(dir) ? dir : join(host.paths.dataDir, dir));
  return {
    archiveBackend: c?.archiveBackend ?? (host.store.dialect === 'postgres' ? 'db' : 'fs'),
    archiveDir: resolveDir(c?.archiveDir ?? 'archive'),
    ...(c?.replicaDir === undefined ? {} : { replicaDir: resolveDir(c.replicaDir) }),
    scrubSample: c?.scrubSample ?? 0.05,
  };
}

export function openCustody(
  host: CustodyHost,
  settings: CustodySettings = defaultCustodySettings(host),
): Custody {
  const primary: BlobBackend =
    settings.archiveBackend === 'db' ? new DbBackend(host.store) : new FsBackend(settings.archiveDir);
  const archive = new Archive({
    store: host.store,
    primary,
    ...(settings.replicaDir === undefined ? {} : { replica: new FsBackend(settings.replicaDir) }),
    audit: host.audit,
  });
  return {
    keys: new ExportKeys({ store: host.store, root: host.root, audit: host.audit }),
    definitions: new Definitions({ store: host.store, audit: host.audit }),
    archive,
    scrubber: (actor, onAlert) =>
      new Scrubber({
        archive,
        audit: host.audit,
        actor,
        sample: settings.scrubSample,
        ...(onAlert === undefined ? {} : { onAlert }),
      }),
  };
}
