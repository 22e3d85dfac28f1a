// Where an embedded installation keeps its files inside the data directory.
import { isAbsolute, join, resolve } from 'node:path';
import type { CustosConfig } from '../config/index.ts';

export interface InstallPaths {
  readonly dataDir: string;
  readonly config: string;
  readonly database: string;
  readonly rootKey: string;
}

export function installPaths(dataDir: string, config?: CustosConfig): InstallPaths {
  const dir = resolve(dataDir);
  const keyFile = config?.keys.rootKey.file ?? 'root.key';
  return {
    dataDir: dir,
    config: join(dir, 'config.yaml'),
    database: join(dir, 'custos.db'),
    rootKey: isAbsolute(keyFile) ? keyFile : join(dir, keyFile),
  };
}
