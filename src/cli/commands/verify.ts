// `custos verify FILE`: offline verification of an export bundle — no server, no database. Prints
// one line per check (✓, ✗ with the reason, · when skipped) and exits 0 only if none failed.
import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { CustosError } from '../../errors/index.ts';
import {
  closeDigestWorkers,
  parseEd25519PublicPems,
  parseIdentityFile,
  parseKeyList,
  verifyBundleFile,
  type AgeIdentity,
  type RevokedKey,
  type VerifyReport,
} from '../../custody/index.ts';
import { collect, printJson, print, readInputFile, type CliIo } from '../context.ts';
import type { KeyObject } from 'node:crypto';

interface VerifyOpts {
  identity?: string[];
  trustedKey?: string[];
  keyList?: string;
  checkpoint?: string;
  consistencyProof?: string;
  json?: boolean;
}

const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;

function progressBar(io: CliIo, total: number): ((read: number) => void) | undefined {
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  if (!tty || total < PROGRESS_MIN_BYTES) return undefined;
  let last = -1;
  return (read) => {
    const pct = Math.floor((read / total) * 100);
    if (pct === last) return;
    last = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    io.stderr.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${(read / 1048576).toFixed(0)} MiB`,
    );
    if (read >= total) io.stderr.write('\n');
  };
}

function parseProof(text: string): Buffer[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l, i) => {
      const h = Buffer.from(l, 'base64');
      if (h.length !== 32 || h.toString('base64') !== l) {
        throw new CustosError(
          'INPUT_INVALID',
          '--consistency-proof: each line must be base64 of a 32-byte hash',
          {
            details: { field: '--consistency-proof', rule: 'base64 hashes, one per line', line: i + 1 },
          },
        );
      }
      return h;
    });
}

export function formatReport(report: VerifyReport): string {
  const lines = report.checks.map((c) => {
    const mark = c.status === 'pass' ? '✓' : c.status === 'fail' ? '✗' : '·';
    const why =
      c.status === 'fail'
        ? ` — ${c.code ?? ''}: ${c.detail ?? ''}`
        : c.detail === undefined
          ? ''
          : ` (${c.detail})`;
    return `${mark} ${c.label}${why}`;
  });
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  lines.push(
    failed === 0
      ? `VERIFIED${report.exportId === undefined ? '' : ` export ${report.exportId}`}`
      : `NOT VERIFIED: ${failed} check(s) failed`,
  );
  return lines.join('\n');
}

/**
 * Print a verification report (JSON or one line per check). Throws the first failing check's
 * error code (the exit code is then non-zero), naming the check.
 */
export function printReport(io: CliIo, report: VerifyReport, json: boolean): void {
  if (json) printJson(io, report);
  else print(io, formatReport(report));
  const failed = report.checks.find((c) => c.status === 'fail');
  if (failed !== undefined) {
    throw new CustosError(failed.code ?? 'CUSTODY_BUNDLE_UNREADABLE', 'Bundle did not verify', {
      details: { field: failed.id, rule: failed.label },
    });
  }
}

export function registerVerify(program: Command, io: CliIo): void {
  program
    .command('verify')
    .description(
      'verify an export bundle offline: BagIt manifests, signature, trusted keys, ledger proof, time-stamp',
    )
    .argument('<file>', 'bundle (.tar, or age-encrypted)')
    .option('--identity <file>', 'age identity file to decrypt an encrypted bundle (repeatable)', collect)
    .option('--trusted-key <pem>', 'trusted export public key, PEM SPKI (repeatable)', collect)
    .option('--key-list <file>', 'export key list (custos export key --list): trusted keys and revocations')
    .option(
      '--checkpoint <file>',
      'a signed ledger checkpoint obtained independently, to check consistency with',
    )
    .option(
      '--consistency-proof <file>',
      'RFC 9162 consistency proof (base64 hashes, one per line) between the two checkpoints',
    )
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: VerifyOpts) => {
      const identities: AgeIdentity[] = (opts.identity ?? []).flatMap((f) =>
        parseIdentityFile(readInputFile(f, '--identity'), '--identity'),
      );
      const trustedKeys: KeyObject[] = (opts.trustedKey ?? []).flatMap((f) =>
        parseEd25519PublicPems(readInputFile(f, '--trusted-key'), '--trusted-key'),
      );
      const revokedKeys: RevokedKey[] = [];
      if (opts.keyList !== undefined) {
        const list = parseKeyList(Buffer.from(readInputFile(opts.keyList, '--key-list')), '--key-list');
        trustedKeys.push(...list.trusted);
        revokedKeys.push(...list.revoked);
      }
      let total = 0;
      try {
        total = statSync(file).size;
      } catch {
        // reported by the verifier as an unreadable bundle
      }
      const progress = opts.json === true ? undefined : progressBar(io, total);
      let report: VerifyReport;
      try {
        report = await verifyBundleFile(file, {
          identities,
          trustedKeys,
          revokedKeys,
          ...(opts.checkpoint === undefined
            ? {}
            : { checkpoint: readInputFile(opts.checkpoint, '--checkpoint') }),
          ...(opts.consistencyProof === undefined
            ? {}
            : { consistencyProof: parseProof(readInputFile(opts.consistencyProof, '--consistency-proof')) }),
          ...(progress === undefined ? {} : { onProgress: progress }),
        });
      } finally {
        await closeDigestWorkers();
      }
      printReport(io, report, opts.json === true);
    });
}
