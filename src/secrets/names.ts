// Validation of everything that names or schedules a secret, and of the value itself: typed errors
// that name the field and the rule, never the rejected value.
import { CustosError } from '../errors/index.ts';
import { CONNECTOR_ID } from '../egress/index.ts';

export const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
export const ENV_ID = /^[a-z][a-z0-9-]{0,62}$/;
const WORKSPACE = /^[a-z][a-z0-9-]{0,62}$/;
/** `--env` omitted: the secret serves every environment that has no more specific one. */
export const ANY_ENV = '*';
export const MAX_VALUE_BYTES = 64 * 1024;
/** The scrubber ignores shorter values (they would match ordinary text), so they cannot be stored. */
export const MIN_VALUE_CHARS = 6;
export const MAX_ROTATE_EVERY_DAYS = 3650;

export interface SecretRef {
  readonly workspace: string;
  readonly name: string;
  readonly connector: string;
  /** An environment id; absent or `*` for every environment. */
  readonly env?: string;
}

export interface CheckedRef {
  readonly workspace: string;
  readonly name: string;
  readonly connector: string;
  readonly env: string;
}

/** Throws INPUT_INVALID unless `workspace` is a workspace id. */
export function checkWorkspace(workspace: string): string {
  if (!WORKSPACE.test(workspace)) {
    throw new CustosError('INPUT_INVALID', 'workspace is not a valid id', {
      details: { field: 'workspace', rule: WORKSPACE.source },
    });
  }
  return workspace;
}

/** Throws SECRETS_SCOPE_INVALID unless `connector` is a connector id. */
export function checkConnector(connector: string): string {
  if (!CONNECTOR_ID.test(connector)) {
    throw new CustosError('SECRETS_SCOPE_INVALID', 'connector is not a valid connector id', {
      details: { field: 'connector', rule: CONNECTOR_ID.source },
    });
  }
  return connector;
}

/** Throws SECRETS_SCOPE_INVALID unless `env` is an environment id or `*`; absent means `*`. */
export function checkEnv(env: string | undefined): string {
  const e = env ?? ANY_ENV;
  if (e !== ANY_ENV && !ENV_ID.test(e)) {
    throw new CustosError('SECRETS_SCOPE_INVALID', 'env is not a valid environment id', {
      details: { field: 'env', rule: `${ENV_ID.source} or *` },
    });
  }
  return e;
}

/** Validate a reference. Throws INPUT_INVALID (workspace), SECRETS_NAME_INVALID, SECRETS_SCOPE_INVALID. */
export function checkRef(ref: SecretRef): CheckedRef {
  checkWorkspace(ref.workspace);
  if (!SECRET_NAME.test(ref.name)) {
    throw new CustosError('SECRETS_NAME_INVALID', 'Secret name must be upper case letters, digits and _', {
      details: { field: 'name', rule: SECRET_NAME.source },
    });
  }
  return {
    workspace: ref.workspace,
    name: ref.name,
    connector: checkConnector(ref.connector),
    env: checkEnv(ref.env),
  };
}

/**
 * The value as UTF-8 bytes. Throws SECRETS_VALUE_INVALID when empty, shorter than the scrubber can
 * recognise, over 64 KiB, or not valid UTF-8 text.
 */
export function checkValue(value: string | Uint8Array): Buffer {
  let text: string;
  if (typeof value === 'string') {
    text = value;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(value);
    } catch (cause) {
      throw new CustosError('SECRETS_VALUE_INVALID', 'Secret value is not UTF-8 text', {
        cause,
        details: { field: 'value', rule: 'UTF-8 text' },
      });
    }
  }
  if (text.length < MIN_VALUE_CHARS) {
    throw new CustosError(
      'SECRETS_VALUE_INVALID',
      `Secret value must be at least ${MIN_VALUE_CHARS} characters`,
      {
        details: { field: 'value', rule: `at least ${MIN_VALUE_CHARS} characters (so it can be scrubbed)` },
      },
    );
  }
  if (!text.isWellFormed()) {
    throw new CustosError('SECRETS_VALUE_INVALID', 'Secret value is not well-formed Unicode', {
      details: { field: 'value', rule: 'well-formed Unicode' },
    });
  }
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_VALUE_BYTES) {
    bytes.fill(0);
    throw new CustosError('SECRETS_VALUE_INVALID', 'Secret value is larger than 64 KiB', {
      details: { field: 'value', rule: `at most ${MAX_VALUE_BYTES} bytes` },
    });
  }
  return bytes;
}

/** Throws SECRETS_SCHEDULE_INVALID unless `days` is absent, null or an integer 1..3650. */
export function checkRotateEvery(days: number | null | undefined): number | null {
  if (days === undefined || days === null) return null;
  if (!Number.isInteger(days) || days < 1 || days > MAX_ROTATE_EVERY_DAYS) {
    throw new CustosError('SECRETS_SCHEDULE_INVALID', 'Rotation interval must be a whole number of days', {
      details: { field: 'rotateEveryDays', rule: `integer 1..${MAX_ROTATE_EVERY_DAYS}` },
    });
  }
  return days;
}

/** The resource id of a secret in ledger events: `<connector>/<env>/<name>`. */
export function resourceId(ref: CheckedRef): string {
  return `${ref.connector}/${ref.env}/${ref.name}`;
}
