// Public surface of observe/: the redacting logger, the secret scrubber and classified-value tags.
export { createLogger } from './logger.ts';
export type { Logger, LogLevel } from './logger.ts';
export { registerSecret, clearSecrets, scrubSecrets, SCRUBBED } from './scrubber.ts';
export { redactValue, redactString, classified } from './redact.ts';
export type { Classified } from './redact.ts';
export { toOcsf, ledgerLines, OCSF_SCHEMA_VERSION } from './ocsf.ts';
export type { OcsfSource, OcsfProduct, LedgerLineFormat, ReadableLedger } from './ocsf.ts';
