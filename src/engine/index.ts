// Public surface of engine/: workflow definitions, expressions, step executors and the sandbox
// (definitions side), and the durable runtime (runtime side). Only add export lines here.
export * from './definition/index.ts';
export type * from './step-contract.ts';
export * from './runtime/index.ts';
export * from './steps/index.ts';
export * from './sandbox/index.ts';
export * from './expressions/index.ts';
