// Public surface of config/: one validated config from a YAML file plus CUSTOS_* overrides.
export { loadConfig, validateConfig, parseConfigText, envOverrides, envName } from './load.ts';
export { DEFAULT_CONFIG, CONFIG_SCHEMA } from './schema.ts';
export { CUSTOS_VERSION } from './version.ts';
export type { CustosConfig } from './schema.ts';
