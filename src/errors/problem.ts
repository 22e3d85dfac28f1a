// RFC 9457 problem details for any thrown value, for the HTTP edge and `--json` CLI output.
// Unknown errors become INTERNAL without their message, which may carry anything.
import { ERROR_CODES, type ErrorCode } from './codes.ts';
import { CustosError, type ErrorDetails } from './custos-error.ts';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

/** Map any error to an RFC 9457 problem object; never leaks an unexpected error's message. */
export function toProblem(err: unknown, instance?: string): Problem {
  const e = err instanceof CustosError ? err : new CustosError('INTERNAL', 'Internal error');
  const spec = ERROR_CODES[e.code];
  const details: ErrorDetails = e.details;
  return {
    type: `urn:custos:error:${e.code.toLowerCase().replaceAll('_', '-')}`,
    title: spec.title,
    status: spec.status,
    code: e.code,
    detail: e.message,
    ...(instance === undefined ? {} : { instance }),
    ...details,
  };
}
