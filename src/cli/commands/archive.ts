// `custos archive list|get|deliver|verify|hold|release|delete|scrub`: the WORM archive of export
// bundles. Deletion takes two steps by two different admins; deliveries and verifications of
// archived bundles are custody events in the ledger.
import type { Command } from 'commander';
import { CustosError } from '../../errors/index.ts';
import {
  closeDigestWorkers,
  parseIdentityFile,
  parseKeyList,
  recordDelivery,
  verifyArchived,
  type AgeIdentity,
  type ArchiveEntry,
  type ScrubResult,
} from '../../custody/index.ts';
import { collect, print, printJson, readInputFile, withHost, type CliIo } from '../context.ts';
import { printReport } from './verify.ts';
import { custodyCaller, custodyFor } from './export.ts';

interface WsOpts {
  workspace: string;
  json?: boolean;
  replica?: string;
}

function row(e: ArchiveEntry): string {
  const flags = [
    e.legalHold ? 'HOLD' : '',
    e.deletionRequestedBy === null ? '' : 'DELETE-REQUESTED',
    e.deletedAt === null ? '' : 'DELETED',
    e.lastScrubOk === false ? 'CORRUPT' : '',
  ]
    .filter((f) => f !== '')
    .join(',');
  return `${e.sha256}  ${String(e.size).padStart(12)}  ${e.createdAt}  until ${e.retainUntil}  ${e.exportId ?? '-'}${flags === '' ? '' : `  [${flags}]`}`;
}

function scrubText(r: ScrubResult): string {
  const lines = [
    `Scrubbed ${r.checked} bundle(s): ${r.ok} intact, ${r.failed.length} problem(s), ${r.repaired} repaired.`,
  ];
  for (const f of r.failed)
    lines.push(
      `  ALERT ${f.sha256} at ${f.location}: ${f.problem}${f.repaired ? ' (repaired from replica)' : ' (NOT repaired)'}`,
    );
  return lines.join('\n');
}

export function registerArchive(program: Command, io: CliIo): void {
  const archive = program.command('archive').description('the WORM archive of export bundles');
  const ws = (c: Command): Command =>
    c.option('--workspace <id>', 'workspace', 'default').option('--json', 'print JSON');

  ws(
    archive
      .command('list')
      .description('list archived bundles')
      .option('--all', 'include deleted (tombstoned) bundles'),
  ).action(async (opts: WsOpts & { all?: boolean }, cmd: Command) => {
    await withHost(cmd, io, async (host, caller) => {
      const entries = await custodyFor(host).archive.list(opts.workspace, custodyCaller(caller), {
        includeDeleted: opts.all === true,
      });
      if (opts.json === true) printJson(io, entries);
      else print(io, entries.length === 0 ? 'The archive is empty.' : entries.map(row).join('\n'));
    });
  });

  ws(
    archive
      .command('get')
      .description('copy an archived bundle out, verifying its digest')
      .argument('<sha256>')
      .requiredOption('--out <file>', 'file to create'),
  ).action(async (sha256: string, opts: WsOpts & { out: string }, cmd: Command) => {
    await withHost(cmd, io, async (host, caller) => {
      const e = await custodyFor(host).archive.get(opts.workspace, sha256, opts.out, custodyCaller(caller));
      if (opts.json === true) printJson(io, e);
      else print(io, `Wrote ${opts.out} (${e.size} bytes, sha256 verified).`);
    });
  });

  ws(
    archive
      .command('deliver')
      .description('record that an archived bundle was handed to its recipient (custody.delivered)')
      .argument('<sha256>')
      .requiredOption('--to <recipient>', 'recipient identifier, e.g. regulator-bafin or an age1… key')
      .option('--channel <name>', 'how it was delivered, e.g. sftp, portal, courier'),
  ).action(async (sha256: string, opts: WsOpts & { to: string; channel?: string }, cmd: Command) => {
    await withHost(cmd, io, async (host, caller) => {
      await recordDelivery(custodyFor(host).archive, opts.workspace, sha256, custodyCaller(caller), {
        recipient: opts.to,
        ...(opts.channel === undefined ? {} : { channel: opts.channel }),
        correlationId: caller.correlationId,
      });
      if (opts.json === true) printJson(io, { sha256, delivered: true, recipient: opts.to });
      else print(io, `Recorded delivery of ${sha256} to ${opts.to}.`);
    });
  });

  ws(
    archive
      .command('verify')
      .description(
        'verify an archived bundle against this installation’s export keys and ledger (custody.verified)',
      )
      .argument('<sha256>')
      .option('--identity <file>', 'age identity file, for an encrypted bundle (repeatable)', collect),
  ).action(async (sha256: string, opts: WsOpts & { identity?: string[] }, cmd: Command) => {
    const identities: AgeIdentity[] = (opts.identity ?? []).flatMap((f) =>
      parseIdentityFile(readInputFile(f, '--identity'), '--identity'),
    );
    const report = await withHost(cmd, io, async (host, caller) => {
      const custody = custodyFor(host);
      const list = parseKeyList(await custody.keys.keyList(opts.workspace), 'key list');
      try {
        return await verifyArchived(custody.archive, opts.workspace, sha256, custodyCaller(caller), {
          identities,
          trustedKeys: list.trusted,
          revokedKeys: list.revoked,
          correlationId: caller.correlationId,
        });
      } finally {
        await closeDigestWorkers();
      }
    });
    printReport(io, report, opts.json === true);
  });

  ws(
    archive
      .command('hold')
      .description('place a legal hold (blocks deletion)')
      .argument('<sha256>')
      .requiredOption('--reason <text>', 'why'),
  ).action(async (sha256: string, opts: WsOpts & { reason: string }, cmd: Command) => {
    await withHost(cmd, io, async (host, caller) => {
      const e = await custodyFor(host).archive.hold(
        opts.workspace,
        sha256,
        opts.reason,
        custodyCaller(caller),
      );
      if (opts.json === true) printJson(io, e);
      else print(io, `Legal hold placed on ${sha256}.`);
    });
  });

  ws(archive.command('release').description('release a legal hold').argument('<sha256>')).action(
    async (sha256: string, opts: WsOpts, cmd: Command) => {
      await withHost(cmd, io, async (host, caller) => {
        const e = await custodyFor(host).archive.release(opts.workspace, sha256, custodyCaller(caller));
        if (opts.json === true) printJson(io, e);
        else print(io, `Legal hold released on ${sha256}.`);
      });
    },
  );

  ws(
    archive
      .command('delete')
      .description('request deletion after retention; a second, different admin approves with --approve')
      .argument('<sha256>')
      .option('--approve', 'approve a deletion another admin requested')
      .option('--replica <dir>', 'replica directory to delete from too'),
  ).action(async (sha256: string, opts: WsOpts & { approve?: boolean }, cmd: Command) => {
    await withHost(cmd, io, async (host, caller) => {
      const a = custodyFor(host, opts.replica).archive;
      const e =
        opts.approve === true
          ? await a.approveDeletion(opts.workspace, sha256, custodyCaller(caller))
          : await a.requestDeletion(opts.workspace, sha256, custodyCaller(caller));
      if (opts.json === true) printJson(io, e);
      else
        print(
          io,
          opts.approve === true
            ? `Deleted ${sha256} (tombstone kept).`
            : `Deletion of ${sha256} requested; another admin must run: custos archive delete ${sha256} --approve`,
        );
    });
  });

  ws(
    archive
      .command('scrub')
      .description('re-hash a sample of the archive (or --all), alert on mismatches, repair from the replica')
      .option('--all', 'check every bundle')
      .option('--replica <dir>', 'replica directory to compare and repair from'),
  ).action(async (opts: WsOpts & { all?: boolean }, cmd: Command) => {
    await withHost(cmd, io, async (host, caller) => {
      const scrubber = custodyFor(host, opts.replica).scrubber(caller.actor, (alert) => {
        host.logger.error('archive integrity alert', {
          sha256: alert.sha256,
          location: alert.location,
          problem: alert.problem,
          repaired: alert.repaired,
        });
      });
      const result = await scrubber.scrub({ all: opts.all === true });
      if (opts.json === true) printJson(io, result);
      else print(io, scrubText(result));
      const lost = result.failed.filter((f) => !f.repaired);
      if (lost.length > 0) {
        throw new CustosError(
          'CUSTODY_ARCHIVE_CORRUPT',
          `${lost.length} archived bundle(s) are corrupt or missing and were not repaired`,
          {
            details: { field: 'archive', rule: 'every blob matches its address' },
          },
        );
      }
    });
  });
}
