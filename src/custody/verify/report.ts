// The verification report: one result per named check, each passed, failed with a stable error
// code and a reason, or skipped (not requested or not applicable). The bundle verifies only when
// no check failed.
import { CustosError, type ErrorCode } from '../../errors/index.ts';

export type CheckId =
  | 'archive'
  | 'decrypt'
  | 'bagit'
  | 'manifest-sha256'
  | 'manifest-sha512'
  | 'payload-listed'
  | 'payload-oxum'
  | 'tagmanifest-sha256'
  | 'tagmanifest-sha512'
  | 'layout'
  | 'bag-info'
  | 'signature'
  | 'subjects'
  | 'signed-tag-files'
  | 'key-trusted'
  | 'key-not-revoked'
  | 'provenance'
  | 'ledger-inclusion'
  | 'ledger-entry'
  | 'checkpoint-consistency'
  | 'timestamp';

export const CHECK_LABELS: Readonly<Record<CheckId, string>> = {
  archive: 'archive is a safe POSIX ustar',
  decrypt: 'age decryption',
  bagit: 'bagit.txt declares BagIt 1.0',
  'manifest-sha256': 'payload matches manifest-sha256.txt',
  'manifest-sha512': 'payload matches manifest-sha512.txt',
  'payload-listed': 'every payload file is listed in every manifest',
  'payload-oxum': 'Payload-Oxum matches the payload',
  'tagmanifest-sha256': 'tag files match tagmanifest-sha256.txt',
  'tagmanifest-sha512': 'tag files match tagmanifest-sha512.txt',
  layout: 'no unlisted or unexpected file',
  'bag-info': 'bag-info.txt names the export',
  signature: 'DSSE signature over the attestation',
  subjects: 'statement subjects match the payload',
  'signed-tag-files': 'signed digests of tag files and bag-info match',
  'key-trusted': 'signing key is trusted',
  'key-not-revoked': 'signing key is not revoked',
  provenance: 'PROV-O provenance names the export',
  'ledger-inclusion': 'ledger inclusion proof against the signed checkpoint',
  'ledger-entry': 'ledger entry records this export',
  'checkpoint-consistency': 'consistent with the given checkpoint',
  timestamp: 'RFC 3161 time-stamp of the checkpoint',
};

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  readonly id: CheckId;
  readonly label: string;
  readonly status: CheckStatus;
  /** Why it failed or was skipped, or a short fact when it passed. */
  readonly detail?: string;
  readonly code?: ErrorCode;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly exportId?: string;
  readonly encrypted: boolean;
  readonly bytes: number;
  readonly checks: readonly CheckResult[];
}

export class ReportBuilder {
  readonly checks: CheckResult[] = [];

  pass(id: CheckId, detail?: string): void {
    this.checks.push({
      id,
      label: CHECK_LABELS[id],
      status: 'pass',
      ...(detail === undefined ? {} : { detail }),
    });
  }

  skip(id: CheckId, detail: string): void {
    this.checks.push({ id, label: CHECK_LABELS[id], status: 'skip', detail });
  }

  fail(id: CheckId, code: ErrorCode, detail: string): void {
    this.checks.push({ id, label: CHECK_LABELS[id], status: 'fail', code, detail });
  }

  /** Run `fn`; a CustosError it throws becomes this check's failure, anything else is re-thrown. */
  run(id: CheckId, fn: () => string | undefined): boolean {
    try {
      const detail = fn();
      this.pass(id, detail);
      return true;
    } catch (err) {
      if (!(err instanceof CustosError)) throw err;
      this.fail(id, err.code, err.message);
      return false;
    }
  }

  async runAsync(id: CheckId, fn: () => Promise<string | undefined>): Promise<boolean> {
    try {
      const detail = await fn();
      this.pass(id, detail);
      return true;
    } catch (err) {
      if (!(err instanceof CustosError)) throw err;
      this.fail(id, err.code, err.message);
      return false;
    }
  }

  failed(id: CheckId): boolean {
    return this.checks.some((c) => c.id === id && c.status === 'fail');
  }
}

/** A check failure with a code, for use inside `run`. */
export function failure(code: ErrorCode, message: string, field: string, rule = message): CustosError {
  return new CustosError(code, message, { details: { field, rule } });
}
