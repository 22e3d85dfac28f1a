// Custody steps that happen after archiving: a bundle handed to its recipient (`custody.delivered`)
// and an archived bundle verified as an auditor would verify it (`custody.verified`, with the
// outcome and the first failing check). Both name the bundle digest and the actor in the ledger.
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustosError } from '../errors/index.ts';
import type { Archive } from './archive/archive.ts';
import { digestMismatch, notFound } from './archive/backend.ts';
import { requireRole, type Caller } from './roles.ts';
import { verifyBundleFile, type VerifyBundleOptions } from './verify/verify-bundle.ts';
import type { VerifyReport } from './verify/report.ts';
import { withCorrelation } from '../ledger/index.ts';

/** Recipients and channels are identifiers (an organisation id, an age key), never addresses. */
const RECIPIENT = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const CHANNEL = /^[a-z][a-z0-9._-]{0,63}$/;

export interface Delivery {
  /** Who received the bundle: an identifier such as `regulator-bafin` or an age1… key. */
  readonly recipient: string;
  /** How: `sftp`, `portal`, `courier`, … */
  readonly channel?: string;
  readonly correlationId?: string;
}

/**
 * Record that an archived bundle was delivered. Exporter or admin. Throws INPUT_INVALID (recipient
 * or channel not an identifier), CUSTODY_ARCHIVE_DENIED, CUSTODY_ARCHIVE_NOT_FOUND.
 */
export async function recordDelivery(
  archive: Archive,
  workspaceId: string,
  sha256: string,
  caller: Caller,
  delivery: Delivery,
): Promise<void> {
  requireRole(caller, ['exporter', 'admin'], 'record deliveries');
  if (!RECIPIENT.test(delivery.recipient)) {
    throw new CustosError('INPUT_INVALID', 'The recipient must be an identifier', {
      details: { field: 'recipient', rule: `identifier ${RECIPIENT.source} (no e-mail or postal address)` },
    });
  }
  if (delivery.channel !== undefined && !CHANNEL.test(delivery.channel)) {
    throw new CustosError('INPUT_INVALID', 'The channel must be a short identifier', {
      details: { field: 'channel', rule: CHANNEL.source },
    });
  }
  const entry = await archive.entry(workspaceId, sha256);
  if (entry.deletedAt !== null) throw notFound(sha256);
  await archive.record(
    workspaceId,
    sha256,
    'custody.delivered',
    caller,
    {
      recipient: delivery.recipient,
      ...(delivery.channel === undefined ? {} : { channel: delivery.channel }),
    },
    withCorrelation(delivery.correlationId),
  );
}

/**
 * Verify an archived bundle end to end (digest on the way out of the archive, then every check of
 * the offline verifier) and record `custody.verified` with the outcome. Any custody role. Throws
 * CUSTODY_ARCHIVE_DENIED, CUSTODY_ARCHIVE_NOT_FOUND, CUSTODY_ARCHIVE_CORRUPT.
 */
export async function verifyArchived(
  archive: Archive,
  workspaceId: string,
  sha256: string,
  caller: Caller,
  options: VerifyBundleOptions & { readonly correlationId?: string } = {},
): Promise<VerifyReport> {
  requireRole(caller, ['exporter', 'admin', 'auditor'], 'verify archived bundles');
  const entry = await archive.entry(workspaceId, sha256);
  if (entry.deletedAt !== null) throw notFound(sha256);
  const dir = await mkdtemp(join(tmpdir(), 'custos-verify-'));
  try {
    const file = join(dir, 'bundle');
    const fh = await open(file, 'wx', 0o600);
    const h = createHash('sha256');
    try {
      for await (const chunk of archive.primary.read(sha256)) {
        h.update(chunk);
        let done = 0;
        while (done < chunk.length) done += (await fh.write(chunk, done, chunk.length - done)).bytesWritten;
      }
    } finally {
      await fh.close();
    }
    const { correlationId, ...verify } = options;
    const correlation = withCorrelation(correlationId);
    if (h.digest('hex') !== sha256) {
      await archive.record(
        workspaceId,
        sha256,
        'custody.verified',
        caller,
        { failedCheck: 'archive-digest', code: 'CUSTODY_ARCHIVE_CORRUPT' },
        { outcome: 'failure', ...correlation },
      );
      throw digestMismatch(sha256, 'on verification');
    }
    const report = await verifyBundleFile(file, verify);
    const failed = report.checks.find((c) => c.status === 'fail');
    await archive.record(
      workspaceId,
      sha256,
      'custody.verified',
      caller,
      {
        checks: String(report.checks.length),
        encrypted: String(report.encrypted),
        ...(failed === undefined
          ? {}
          : { failedCheck: failed.id, ...(failed.code === undefined ? {} : { code: failed.code }) }),
      },
      {
        outcome: report.ok ? 'success' : 'failure',
        ...withCorrelation(correlationId),
      },
    );
    return report;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
