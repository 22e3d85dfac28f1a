// Public surface of host/: opening and initializing an installation (the composition root).
export { openHost, localOperator, checkDataDir, loadHostConfig } from './host.ts';
export type { Host, HostOptions } from './host.ts';
export { initInstallation } from './init.ts';
export type { InitOptions, InitResult } from './init.ts';
export { installPaths } from './paths.ts';
export type { InstallPaths } from './paths.ts';
