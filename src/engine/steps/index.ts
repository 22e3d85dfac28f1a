// Public surface of the step executors: dispatch, the per-workflow executor the runtime binds,
// retry classification, and the request builder of http steps (for dry runs).
export { executeStep, createStepExecutor } from './registry.ts';
export { isRetryable, MAX_OUTPUT_CHARS } from './common.ts';
export type { StepExecution } from './common.ts';
export { buildHttpRequest, encodePathValue } from './http.ts';
export { parseDuration } from './duration.ts';
