// Public surface of the code sandbox: run one code step in QuickJS (WebAssembly) in a worker.
export { closeSandboxWorkers, runSandbox } from './run.ts';
export type { SandboxOptions } from './run.ts';
export { SANDBOX_DEFAULTS } from './quickjs.ts';
export { HELPERS, MAX_HELPER_INPUT_CHARS } from './helpers.ts';
