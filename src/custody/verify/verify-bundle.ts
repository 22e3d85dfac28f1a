// Offline verification of an export bundle: no server, no database. Reads the file once and runs
// every check, reporting each with a stable code; the bundle verifies only if none failed.
import type { AgeIdentity } from '../age/index.ts';
import { DEFAULT_LIMITS, type BundleLimits } from '../limits.ts';
import { checkAttestation, type TrustOptions } from './attestation-checks.ts';
import { checkBag } from './bag-checks.ts';
import { checkLedger, type CheckpointOptions } from './ledger-checks.ts';
import { readBundleFile, ReadFailure, type CollectedBundle } from './read-bundle.ts';
import { ReportBuilder, type VerifyReport } from './report.ts';

export interface VerifyBundleOptions extends TrustOptions, CheckpointOptions {
  readonly identities?: readonly AgeIdentity[];
  readonly limits?: BundleLimits;
  readonly onProgress?: (read: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Verify the checks that follow reading (exported for tests that build bundles in memory). */
export async function verifyCollected(
  bag: CollectedBundle,
  options: VerifyBundleOptions,
  report = new ReportBuilder(),
): Promise<VerifyReport> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const facts = checkBag(bag, limits, report);
  const att = checkAttestation(bag, facts, options, report);
  await checkLedger(bag, att, options, report);
  const exportId = facts.exportId ?? att.exportId;
  return {
    ok: report.checks.every((c) => c.status !== 'fail'),
    ...(exportId === undefined ? {} : { exportId }),
    encrypted: bag.encrypted,
    bytes: bag.bytes,
    checks: report.checks,
  };
}

/**
 * Verify the bundle at `path`. Never throws for a bad bundle: every problem is a failed check.
 * Throws only for cancellation (`signal`) and unexpected bugs.
 */
export async function verifyBundleFile(
  path: string,
  options: VerifyBundleOptions = {},
): Promise<VerifyReport> {
  const report = new ReportBuilder();
  let bag: CollectedBundle;
  try {
    bag = await readBundleFile(path, options);
  } catch (err) {
    if (!(err instanceof ReadFailure)) throw err;
    if (err.stage === 'decrypt') report.fail('decrypt', err.error.code, err.error.message);
    else if (err.encrypted) report.pass('decrypt', 'age, X25519');
    if (err.stage !== 'decrypt') report.fail('archive', err.error.code, err.error.message);
    return { ok: false, encrypted: err.encrypted, bytes: 0, checks: report.checks };
  }
  if (bag.encrypted) report.pass('decrypt', 'age, X25519');
  else report.skip('decrypt', 'bundle is not encrypted');
  report.pass('archive', `${bag.tagFiles.size + bag.payload.size} files`);
  return verifyCollected(bag, options, report);
}
