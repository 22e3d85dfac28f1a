// Request validation against each route's JSON Schemas: bodies strictly (no coercion, no defaults,
// unknown fields refused), path and query parameters with string-to-number coercion. Failures
// become API_VALIDATION_FAILED naming every field and rule.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { CustosError, type ErrorProblem } from '../../errors/index.ts';

const strict = new Ajv({
  allErrors: true,
  strict: false,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
});
const coercing = new Ajv({
  allErrors: true,
  strict: false,
  coerceTypes: true,
  useDefaults: false,
  removeAdditional: false,
});

/** Install the validator compiler on `app`. */
export function installValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing;
    const validate: ValidateFunction = ajv.compile(schema as object);
    return (data: unknown) =>
      validate(data) ? { value: data } : { error: validationError(httpPart, validate.errors ?? []) };
  });
}

function where(part: string | undefined): string {
  switch (part) {
    case 'querystring':
      return 'query';
    case 'params':
      return 'path';
    case 'headers':
      return 'header';
    default:
      return 'body';
  }
}

/** One problem per ajv error: the JSON Pointer of the field and the rule it broke. */
export function problemsOf(part: string | undefined, errors: readonly ErrorObject[]): ErrorProblem[] {
  const prefix = where(part);
  return errors.map((e) => {
    let field = e.instancePath;
    let rule = `${e.keyword}: ${e.message ?? 'invalid'}`;
    if (e.keyword === 'additionalProperties') {
      field = `${field}/${String((e.params as { additionalProperty?: unknown }).additionalProperty)}`;
      rule = 'unknown field';
    } else if (e.keyword === 'required') {
      field = `${field}/${String((e.params as { missingProperty?: unknown }).missingProperty)}`;
      rule = 'required';
    }
    return { field: `${prefix}:${field === '' ? '/' : field}`, rule };
  });
}

export function validationError(part: string | undefined, errors: readonly ErrorObject[]): CustosError {
  const problems = problemsOf(part, errors);
  const first = problems[0] ?? { field: where(part), rule: 'valid request' };
  return new CustosError('API_VALIDATION_FAILED', `${first.field}: ${first.rule}`, {
    details: { field: first.field, rule: first.rule, problems },
  });
}

export type { FastifySchema };
