// The Custos configuration: its typed shape, defaults for the embedded mode, and the JSON Schema
// every file and environment override is validated against (unknown keys are rejected).

export interface CustosConfig {
  readonly server: { readonly host: string; readonly port: number; readonly publicUrl?: string };
  /** Absent: embedded SQLite at <data>/custos.db. */
  readonly database: { readonly url?: string; readonly poolSize: number };
  readonly keys: {
    readonly rootKey: { readonly provider: 'file' | 'passphrase'; readonly file: string };
    /** Rotate a KEK version automatically once it has wrapped this many keys (GCM nonce limit is 2^32). */
    readonly rotateAfterWraps: number;
  };
  readonly ledger: {
    /** Origin line prefix of checkpoints: `<originPrefix>/<ledger>`. */
    readonly originPrefix: string;
    readonly checkpointEveryEntries: number;
    readonly checkpointIntervalMs: number;
    readonly maxBatchWaitMs: number;
    readonly maxBatchSize: number;
    readonly publicLedgers: readonly string[];
    /** RFC 3161 Time-Stamp Authority that time-stamps new checkpoints (off when absent). */
    readonly tsaUrl?: string;
    readonly tsaTimeoutMs: number;
    /**
     * PostgreSQL only: the role the application connects as when a separate owner role owns the
     * schema; UPDATE, DELETE and TRUNCATE on ledger tables are revoked from it.
     */
    readonly applicationRole?: string;
  };
  readonly privacy: {
    readonly blindIndexBits: number;
    readonly phoneDefaultRegion: string;
  };
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  readonly custody: {
    /** `fs` or `db`; absent: `fs` on SQLite, `db` on PostgreSQL. */
    readonly archiveBackend?: 'fs' | 'db';
    /** Filesystem archive directory, relative to the data directory unless absolute. */
    readonly archiveDir: string;
    /** A second location holding a copy of every blob, used to repair corrupted ones. */
    readonly replicaDir?: string;
    /** Share of the archive re-hashed by each scheduled scrub (0..1). */
    readonly scrubSample: number;
    /** How often `serve` runs the scheduled scrub; 0 disables it. */
    readonly scrubIntervalMs: number;
  };
  readonly iam: {
    /**
     * Roles the local operator (whoever runs `custos` against the data directory without
     * CUSTOS_TOKEN) holds in every workspace. Empty: every guarded command needs a token.
     */
    readonly localOperatorRoles: readonly (
      'builder' | 'reviewer' | 'publisher' | 'admin' | 'auditor' | 'operator'
    )[];
  };
}

export const DEFAULT_CONFIG: CustosConfig = {
  server: { host: '127.0.0.1', port: 8080 },
  database: { poolSize: 10 },
  keys: { rootKey: { provider: 'file', file: 'root.key' }, rotateAfterWraps: 2 ** 30 },
  ledger: {
    originPrefix: 'localhost/custos',
    checkpointEveryEntries: 256,
    checkpointIntervalMs: 1000,
    maxBatchWaitMs: 2,
    maxBatchSize: 512,
    publicLedgers: [],
    tsaTimeoutMs: 10_000,
  },
  privacy: { blindIndexBits: 64, phoneDefaultRegion: 'US' },
  log: { level: 'info' },
  custody: { archiveDir: 'archive', scrubSample: 0.05, scrubIntervalMs: 6 * 60 * 60 * 1000 },
  iam: { localOperatorRoles: ['admin', 'operator', 'auditor'] },
};

const str = { type: 'string', minLength: 1, maxLength: 2048 } as const;
const posInt = { type: 'integer', minimum: 1 } as const;

/** JSON Schema (draft 2020-12 subset understood by Ajv) of a partial config file. */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: str,
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        publicUrl: { type: 'string', pattern: '^https?://' },
      },
    },
    database: {
      type: 'object',
      additionalProperties: false,
      properties: {
        url: { type: 'string', pattern: '^postgres(ql)?://' },
        poolSize: { type: 'integer', minimum: 1, maximum: 1000 },
      },
    },
    keys: {
      type: 'object',
      additionalProperties: false,
      properties: {
        rootKey: {
          type: 'object',
          additionalProperties: false,
          properties: { provider: { enum: ['file', 'passphrase'] }, file: str },
        },
        rotateAfterWraps: { type: 'integer', minimum: 1, maximum: 2 ** 32 - 2 ** 24 },
      },
    },
    ledger: {
      type: 'object',
      additionalProperties: false,
      properties: {
        originPrefix: { type: 'string', pattern: '^[!-*,-~]+$', maxLength: 200 },
        checkpointEveryEntries: posInt,
        checkpointIntervalMs: posInt,
        maxBatchWaitMs: { type: 'integer', minimum: 0, maximum: 1000 },
        maxBatchSize: { type: 'integer', minimum: 1, maximum: 100000 },
        publicLedgers: { type: 'array', items: str, maxItems: 1000 },
        tsaUrl: { type: 'string', pattern: '^https?://' },
        tsaTimeoutMs: { type: 'integer', minimum: 100, maximum: 120000 },
        applicationRole: { type: 'string', pattern: '^[a-z_][a-z0-9_]{0,62}$' },
      },
    },
    privacy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        blindIndexBits: { type: 'integer', minimum: 16, maximum: 256, multipleOf: 8 },
        phoneDefaultRegion: { type: 'string', pattern: '^[A-Z]{2}$' },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: { level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] } },
    },
    custody: {
      type: 'object',
      additionalProperties: false,
      properties: {
        archiveBackend: { enum: ['fs', 'db'] },
        archiveDir: str,
        replicaDir: str,
        scrubSample: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        scrubIntervalMs: { type: 'integer', minimum: 0 },
      },
    },
    iam: {
      type: 'object',
      additionalProperties: false,
      properties: {
        localOperatorRoles: {
          type: 'array',
          uniqueItems: true,
          items: { enum: ['builder', 'reviewer', 'publisher', 'admin', 'auditor', 'operator'] },
        },
      },
    },
  },
} as const;

/** Environment variables that are not config keys but are read by the CLI. */
export const NON_CONFIG_ENV = new Set([
  'CUSTOS_DATA',
  'CUSTOS_DATABASE_URL',
  'CUSTOS_URL',
  'CUSTOS_TOKEN',
  'CUSTOS_PASSPHRASE',
  'CUSTOS_CONFIG',
]);
