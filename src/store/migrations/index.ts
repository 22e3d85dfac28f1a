// The ordered list of schema migrations; append only, never edit a landed migration.
import { foundation } from './001-foundation.ts';
import { ledger } from './002-ledger.ts';
import { custody } from './003-custody.ts';
import { secrets } from './004-secrets.ts';
import { engine } from './005-engine.ts';
import { iam } from './006-iam.ts';
import { checkpointChain } from './007-checkpoint-chain.ts';
import { rateLimits } from './008-rate-limits.ts';
import { recordsExportOrder } from './009-records-export-order.ts';
import { ssoGroupRoles } from './010-sso-group-roles.ts';
import { exportJobs } from './011-export-jobs.ts';
import type { StoreMigration } from './types.ts';

export const MIGRATIONS: readonly StoreMigration[] = [
  foundation,
  ledger,
  custody,
  secrets,
  engine,
  iam,
  checkpointChain,
  rateLimits,
  recordsExportOrder,
  ssoGroupRoles,
  exportJobs,
];
export type { StoreMigration, DialectName } from './types.ts';
export { blobType } from './types.ts';
