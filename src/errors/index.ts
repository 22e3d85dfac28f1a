// Public surface of the error registry: the base class, the code table and RFC 9457 mapping.
export { CustosError, isCustosError } from './custos-error.ts';
export type { CustosErrorOptions, ErrorDetails, ErrorProblem } from './custos-error.ts';
export { ERROR_CODES } from './codes.ts';
export type { ErrorCode, ErrorKind, ErrorSpec } from './codes.ts';
export { toProblem } from './problem.ts';
export type { Problem } from './problem.ts';
