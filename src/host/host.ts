// The composition root: opens config, store, root key, keyring and audit sink for one installation.
// CLI and server both start here; domain modules receive what they need from it.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { loadConfig, type CustosConfig } from '../config/index.ts';
import { CustosError } from '../errors/index.ts';
import { openLocalRootKeyFile, openPassphraseRootKey, Keyring, type RootKeyProvider } from '../keys/index.ts';
import { Ledgers, type Actor, type AuditSink } from '../ledger/index.ts';
import { createLogger, type Logger } from '../observe/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { installPaths, type InstallPaths } from './paths.ts';

export interface HostOptions {
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly passphrase?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly logDestination?: NodeJS.WritableStream;
}

export interface Host {
  readonly paths: InstallPaths;
  readonly config: CustosConfig;
  readonly store: Store;
  readonly root: RootKeyProvider;
  readonly keyring: Keyring;
  readonly audit: AuditSink;
  readonly ledgers: Ledgers;
  readonly logger: Logger;
  /** The actor for commands run locally against the data directory. */
  readonly localActor: Actor;
  close(): Promise<void>;
}

/** The actor recorded for commands that run locally, as ARCHITECTURE.md §2 requires. */
export function localOperator(): Actor {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return { kind: 'local-operator', id: name };
}

/** Throws DATA_DIR_UNREADABLE when the directory exists but cannot be read and written. */
export function checkDataDir(dataDir: string): void {
  if (!existsSync(dataDir)) return;
  try {
    if (!statSync(dataDir).isDirectory()) throw new Error('not a directory');
    accessSync(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (cause) {
    throw new CustosError('DATA_DIR_UNREADABLE', 'Data directory is not a readable and writable directory', {
      cause,
      details: { field: 'data', rule: 'readable and writable directory' },
    });
  }
}

export function loadHostConfig(options: HostOptions): { config: CustosConfig; paths: InstallPaths } {
  checkDataDir(options.dataDir);
  const first = installPaths(options.dataDir);
  const config = loadConfig(existsSync(first.config) ? first.config : undefined, options.env ?? process.env);
  return { config, paths: installPaths(options.dataDir, config) };
}

export async function openRoot(
  config: CustosConfig,
  paths: InstallPaths,
  passphrase?: string,
): Promise<RootKeyProvider> {
  if (config.keys.rootKey.provider === 'file') return openLocalRootKeyFile(paths.rootKey);
  if (passphrase === undefined || passphrase === '') {
    throw new CustosError(
      'KEYS_PASSPHRASE_WRONG',
      'A passphrase is required (CUSTOS_PASSPHRASE or --passphrase-file)',
      {
        details: { field: 'passphrase', rule: 'required for the passphrase root key provider' },
      },
    );
  }
  return openPassphraseRootKey(paths.rootKey, passphrase);
}

export function databaseUrlOf(config: CustosConfig, options: HostOptions): string | undefined {
  return options.databaseUrl ?? config.database.url;
}

/**
 * Open an initialized installation. Throws DATA_DIR_NOT_INITIALIZED when there is none,
 * plus the config, store and key errors of the pieces it opens.
 */
export async function openHost(options: HostOptions): Promise<Host> {
  const { config, paths } = loadHostConfig(options);
  if (!existsSync(paths.config)) {
    throw new CustosError(
      'DATA_DIR_NOT_INITIALIZED',
      'No Custos installation in the data directory; run `custos init`',
      {
        details: { field: 'data', rule: 'initialized installation' },
      },
    );
  }
  const root = await openRoot(config, paths, options.passphrase);
  const url = databaseUrlOf(config, options);
  const store = await openStore(
    url === undefined
      ? { dialect: 'sqlite', file: paths.database }
      : { dialect: 'postgres', url, poolSize: config.database.poolSize },
  );
  const ledgers = new Ledgers({ store, root, options: config.ledger });
  const sink = ledgers.auditSink;
  const keyring = new Keyring({ store, root, audit: sink, rotateAfterWraps: config.keys.rotateAfterWraps });
  const logger = createLogger({
    level: config.log.level,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  return {
    paths,
    config,
    store,
    root,
    keyring,
    audit: sink,
    ledgers,
    logger,
    localActor: localOperator(),
    close: async () => {
      await ledgers.close();
      await store.close();
    },
  };
}
