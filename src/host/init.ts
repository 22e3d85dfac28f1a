// `custos init`: creates the data directory, config, root key, database, the first workspace and a
// one-time admin bootstrap token. Refuses to touch an existing installation; removes what it
// created if any step fails, so nothing is half-written.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { DEFAULT_CONFIG } from '../config/index.ts';
import { CustosError } from '../errors/index.ts';
import { createWorkspace, issueToken } from '../iam/index.ts';
import { createLocalRootKeyFile, createPassphraseRootKey, Keyring } from '../keys/index.ts';
import { Ledgers } from '../ledger/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { checkDataDir, localOperator } from './host.ts';
import { installPaths } from './paths.ts';

export interface InitOptions {
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly workspace?: string;
  /** When set, the root key is derived from this passphrase instead of a key file. */
  readonly passphrase?: string;
  /** Days the bootstrap admin token stays valid (1..365, default 7): long enough to create real admins. */
  readonly tokenDays?: number;
}

export interface InitResult {
  readonly dataDir: string;
  readonly workspace: string;
  readonly adminToken: string;
  readonly adminTokenExpiresAt: string;
}

const DEFAULT_TOKEN_DAYS = 7;

const CONFIG_TEMPLATE = (
  provider: 'file' | 'passphrase',
  file: string,
  url?: string,
) => `# Custos configuration. Every key can be overridden by a CUSTOS_* environment variable,
# e.g. CUSTOS_SERVER_PORT=9090. Unknown keys are rejected.
server:
  host: 127.0.0.1
  port: 8080
keys:
  rootKey:
    provider: ${provider}
    file: ${file}
${url === undefined ? '' : `database:\n  url: ${JSON.stringify(url)}\n`}`;

/** Create a new installation. Throws DATA_DIR_EXISTS, DATA_DIR_UNREADABLE, STORE_UNAVAILABLE. */
export async function initInstallation(options: InitOptions): Promise<InitResult> {
  checkDataDir(options.dataDir);
  const tokenDays = options.tokenDays ?? DEFAULT_TOKEN_DAYS;
  if (!Number.isInteger(tokenDays) || tokenDays < 1 || tokenDays > 365) {
    throw new CustosError('INPUT_INVALID', 'The bootstrap token lifetime must be 1..365 days', {
      details: { field: '--token-days', rule: 'integer 1..365' },
    });
  }
  const provider = options.passphrase === undefined ? 'file' : 'passphrase';
  const keyFile = provider === 'file' ? 'root.key' : 'root.passphrase.json';
  const paths = installPaths(options.dataDir, {
    keys: { rootKey: { provider, file: keyFile } },
  } as Parameters<typeof installPaths>[1]);
  for (const f of [paths.config, paths.database, paths.rootKey]) {
    if (existsSync(f)) {
      throw new CustosError('DATA_DIR_EXISTS', 'An installation already exists in the data directory', {
        details: { field: 'data', rule: 'empty or new directory' },
      });
    }
  }
  const createdDir = !existsSync(paths.dataDir);
  const created: string[] = [];
  let store: Store | undefined;
  let ledgers: Ledgers | undefined;
  try {
    mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
    const root =
      options.passphrase === undefined
        ? await createLocalRootKeyFile(paths.rootKey)
        : await createPassphraseRootKey(paths.rootKey, options.passphrase);
    created.push(paths.rootKey);
    store = await openStore(
      options.databaseUrl === undefined
        ? { dialect: 'sqlite', file: paths.database }
        : { dialect: 'postgres', url: options.databaseUrl },
    );
    if (options.databaseUrl === undefined)
      created.push(paths.database, `${paths.database}-wal`, `${paths.database}-shm`);
    const existing = await store.db.selectFrom('workspaces').select('id').limit(1).executeTakeFirst();
    if (existing !== undefined) {
      throw new CustosError('DATA_DIR_EXISTS', 'The database already holds an installation', {
        details: { field: 'databaseUrl', rule: 'empty database' },
      });
    }
    const workspace = options.workspace ?? 'default';
    const actor = localOperator();
    ledgers = new Ledgers({ store, root, options: DEFAULT_CONFIG.ledger });
    const keyring = new Keyring({
      store,
      root,
      audit: ledgers.auditSink,
      rotateAfterWraps: DEFAULT_CONFIG.keys.rotateAfterWraps,
    });
    await createWorkspace(store.db, workspace);
    await keyring.initWorkspace(workspace, actor);
    const expiresAt = new Date(Date.now() + tokenDays * 86_400_000).toISOString();
    const { token } = await issueToken(store.db, {
      workspaceId: workspace,
      roles: ['admin'],
      label: 'bootstrap',
      expiresAt,
    });
    await ledgers.auditSink.record('system', {
      time: new Date().toISOString(),
      actor,
      action: 'install.init',
      resource: { kind: 'workspace', id: workspace },
      outcome: 'success',
      details: { bootstrapToken: 'issued', expiresAt },
    });
    writeFileSync(paths.config, CONFIG_TEMPLATE(provider, keyFile, options.databaseUrl), {
      mode: 0o600,
      flag: 'wx',
    });
    created.push(paths.config);
    await ledgers.close();
    await store.close();
    return { dataDir: paths.dataDir, workspace, adminToken: token, adminTokenExpiresAt: expiresAt };
  } catch (err) {
    await ledgers?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    for (const f of created) rmSync(f, { force: true });
    if (createdDir) rmSync(paths.dataDir, { recursive: true, force: true });
    throw err;
  }
}
