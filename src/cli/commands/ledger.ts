// `custos ledger key|checkpoint|record|prove|consistency|verify`: the tamper-evident ledger from the
// operator's side. They run locally against the data directory (the signing key needs the root
// key), so `record` acts as the local-operator actor and the ledger says so.
import type { Command } from 'commander';
import { CustosError } from '../../errors/index.ts';
import type { VerifyReport } from '../../ledger/index.ts';
import { CUSTOS_VERSION } from '../../config/index.ts';
import { ledgerLines } from '../../observe/index.ts';
import { print, printJson, readInputFile, withHost, type CliIo } from '../context.ts';

const MAX_EVENTS_BYTES = 4 * 1024 * 1024;
const MAX_EVENTS = 10_000;

interface LedgerOpts {
  ledger: string;
  json?: boolean;
}

function parseCount(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d{1,15}$/.test(value) || !Number.isSafeInteger(n)) {
    throw new CustosError('INPUT_INVALID', `${flag} must be a non-negative integer`, {
      details: { field: flag, rule: 'integer ≥ 0' },
    });
  }
  return n;
}

/** One JSON object, or NDJSON with one object per line; each labelled for error messages. */
export function parseEventsFile(text: string): { inputs: unknown[]; labels: string[] } {
  if (Buffer.byteLength(text, 'utf8') > MAX_EVENTS_BYTES) {
    throw new CustosError('INPUT_INVALID', '--file is larger than 4 MiB', {
      details: { field: '--file', rule: 'at most 4 MiB' },
    });
  }
  const trimmed = text.trim();
  if (trimmed === '')
    throw new CustosError('INPUT_INVALID', '--file holds no event', {
      details: { field: '--file', rule: 'one or more events' },
    });
  try {
    const whole: unknown = JSON.parse(trimmed);
    if (typeof whole === 'object' && whole !== null && !Array.isArray(whole))
      return { inputs: [whole], labels: ['event '] };
  } catch {
    // not a single document: read it as NDJSON below
  }
  const inputs: unknown[] = [];
  const labels: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      inputs.push(JSON.parse(line));
    } catch {
      throw new CustosError('INPUT_INVALID', `--file line ${i + 1} is not JSON`, {
        details: { field: `--file line ${i + 1}`, rule: 'one JSON object per line', line: i + 1 },
      });
    }
    labels.push(`line ${i + 1} `);
  });
  if (inputs.length > MAX_EVENTS) {
    throw new CustosError('INPUT_INVALID', `--file holds more than ${MAX_EVENTS} events`, {
      details: { field: '--file', rule: `at most ${MAX_EVENTS} events` },
    });
  }
  return { inputs, labels };
}

function verifyText(r: VerifyReport): string {
  const lines = [
    `ledger ${r.ledger} (${r.origin}): ${r.ok ? 'OK' : `FAILED (${r.failure?.code ?? ''})`}`,
    `  entries ${r.size}, checkpoints ${r.checkpoints}${r.latestCheckpointSize === undefined ? '' : ` (latest ${r.latestCheckpointSize})`}, pending ${r.pending}`,
    `  key ${r.verifierKey}`,
  ];
  if (r.externalCheckpointSize !== undefined)
    lines.push(`  checkpoint kept elsewhere: size ${r.externalCheckpointSize}${r.ok ? ', consistent' : ''}`);
  for (const t of r.timestamps) {
    lines.push(
      `  time-stamp of checkpoint ${t.size}: ${t.genTime} by ${t.signer ?? t.tsaUrl}, serial ${t.serialNumber}, ${t.signatureValid && t.imprintMatches ? 'verified' : 'INVALID'}`,
    );
  }
  return lines.join('\n');
}

export function registerLedger(program: Command, io: CliIo): void {
  const ledger = program
    .command('ledger')
    .description('the tamper-evident ledger: keys, checkpoints, proofs, verification');

  ledger
    .command('key')
    .description('print the verifier key (signed-note <name>+<key id>+<base64 key>) to keep elsewhere')
    .requiredOption('--ledger <name>', 'system or a workspace id')
    .option('--json', 'print JSON')
    .action(async (opts: LedgerOpts, cmd: Command) => {
      await withHost(cmd, io, async (host) => {
        const l = await host.ledgers.open(opts.ledger);
        if (opts.json !== true) {
          print(io, l.verifierKey);
          return;
        }
        printJson(io, {
          ledger: l.id,
          origin: l.origin,
          keyName: l.keyName,
          keyId: l.keyId.toString(16).padStart(8, '0'),
          publicKey: l.publicKey.toString('base64'),
          verifierKey: l.verifierKey,
        });
      });
    });

  ledger
    .command('checkpoint')
    .description('print the newest signed checkpoint (signing one over pending entries) to keep elsewhere')
    .requiredOption('--ledger <name>', 'system or a workspace id')
    .option('--json', 'print JSON')
    .action(async (opts: LedgerOpts, cmd: Command) => {
      await withHost(cmd, io, async (host) => {
        const c = await (await host.ledgers.open(opts.ledger)).checkpoint();
        if (opts.json === true)
          printJson(io, {
            ledger: opts.ledger,
            origin: c.origin,
            size: c.size,
            root: c.root.toString('base64'),
            note: c.note,
          });
        else io.stdout.write(c.note);
      });
    });

  ledger
    .command('record')
    .description(
      'record external events (incident notes, exercises, approvals made elsewhere) as external.* actions',
    )
    .requiredOption('--ledger <name>', 'system or a workspace id')
    .requiredOption('--file <file>', 'one JSON event or NDJSON (one per line); - for standard input')
    .option('--json', 'print JSON')
    .action(async (opts: LedgerOpts & { file: string }, cmd: Command) => {
      const text = opts.file === '-' ? await io.readStdin() : readInputFile(opts.file, '--file');
      const { inputs, labels } = parseEventsFile(text);
      await withHost(cmd, io, async (host, caller) => {
        const receipts = await host.ledgers.recordExternal(
          opts.ledger,
          caller.actor,
          inputs,
          (i) => labels[i] ?? `[${i + 1}] `,
        );
        const indexes = receipts.map((r) => r.index);
        if (opts.json === true) printJson(io, { ledger: opts.ledger, indexes });
        else
          print(
            io,
            `Recorded ${indexes.length} event${indexes.length === 1 ? '' : 's'} in ledger ${opts.ledger} at ${indexes.join(', ')}.`,
          );
      });
    });

  ledger
    .command('prove')
    .description('print the inclusion proof of entry N as a C2SP tlog-proof (the entry is its extra data)')
    .requiredOption('--ledger <name>', 'system or a workspace id')
    .requiredOption('--index <n>', 'entry index')
    .option('--json', 'print JSON')
    .action(async (opts: LedgerOpts & { index: string }, cmd: Command) => {
      const index = parseCount(opts.index, '--index');
      await withHost(cmd, io, async (host) => {
        const l = await host.ledgers.find(opts.ledger);
        if (opts.json !== true) {
          io.stdout.write(await l.tlogProof(index));
          return;
        }
        const p = await l.inclusionProof(index);
        printJson(io, {
          ledger: l.id,
          index: p.index,
          treeSize: p.treeSize,
          entry: p.entry.toString('utf8'),
          leafHash: p.leafHash.toString('base64'),
          proof: p.proof.map((h) => h.toString('base64')),
          checkpoint: p.checkpoint.note,
        });
      });
    });

  ledger
    .command('consistency')
    .description('print the consistency proof between tree sizes A and B (default: the newest checkpoint)')
    .requiredOption('--ledger <name>', 'system or a workspace id')
    .requiredOption('--from <a>', 'older tree size')
    .option('--to <b>', 'newer tree size')
    .option('--json', 'print JSON')
    .action(async (opts: LedgerOpts & { from: string; to?: string }, cmd: Command) => {
      const from = parseCount(opts.from, '--from');
      const toFlag = opts.to === undefined ? undefined : parseCount(opts.to, '--to');
      await withHost(cmd, io, async (host) => {
        const l = await host.ledgers.find(opts.ledger);
        const to = toFlag ?? (await l.checkpoint()).size;
        const p = await l.consistencyProof(from, to);
        if (opts.json === true) {
          printJson(io, {
            ledger: l.id,
            from: p.from,
            to: p.to,
            fromRoot: p.fromRoot.toString('base64'),
            toRoot: p.toRoot.toString('base64'),
            proof: p.proof.map((h) => h.toString('base64')),
          });
          return;
        }
        const lines = [
          `from ${p.from} ${p.fromRoot.toString('base64')}`,
          `to ${p.to} ${p.toRoot.toString('base64')}`,
          ...p.proof.map((h) => h.toString('base64')),
        ];
        io.stdout.write(`${lines.join('\n')}\n`);
      });
    });

  ledger
    .command('export')
    .description(
      'print entries as NDJSON: OCSF 1.3.0 security events for a SIEM (default), or the ledger events as recorded',
    )
    .requiredOption('--ledger <name>', 'system or a workspace id')
    .option('--from <n>', 'first entry index', '0')
    .option('--to <n>', 'stop before this index (default: every entry recorded so far)')
    .option('--format <format>', 'ocsf or ledger', 'ocsf')
    .action(async (opts: LedgerOpts & { from: string; to?: string; format: string }, cmd: Command) => {
      const from = parseCount(opts.from, '--from');
      const to = opts.to === undefined ? undefined : parseCount(opts.to, '--to');
      const format = opts.format;
      if (format !== 'ocsf' && format !== 'ledger') {
        throw new CustosError('INPUT_INVALID', '--format must be ocsf or ledger', {
          details: { field: '--format', rule: 'ocsf | ledger' },
        });
      }
      await withHost(cmd, io, async (host) => {
        const l = await host.ledgers.find(opts.ledger);
        let lines: string[] = [];
        for await (const line of ledgerLines(l, from, to, format, { version: CUSTOS_VERSION })) {
          lines.push(line);
          if (lines.length === 1000) {
            io.stdout.write(`${lines.join('\n')}\n`);
            lines = [];
          }
        }
        if (lines.length > 0) io.stdout.write(`${lines.join('\n')}\n`);
      });
    });

  ledger
    .command('verify')
    .description(
      'recompute the tree from the entries, check every checkpoint, tile and time-stamp, and prove consistency with a checkpoint kept elsewhere',
    )
    .requiredOption('--ledger <name>', 'system or a workspace id')
    .option(
      '--checkpoint <file>',
      'a signed checkpoint kept elsewhere: the ledger must have only grown since',
    )
    .option('--key <vkey>', 'the verifier key kept elsewhere (from `custos ledger key`)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: LedgerOpts & { checkpoint?: string; key?: string }, cmd: Command) => {
      const checkpoint =
        opts.checkpoint === undefined ? undefined : readInputFile(opts.checkpoint, '--checkpoint');
      await withHost(cmd, io, async (host) => {
        const report = await host.ledgers.verify(opts.ledger, {
          checkSigningKey: true,
          ...(checkpoint === undefined ? {} : { checkpoint }),
          ...(opts.key === undefined ? {} : { verifierKey: opts.key }),
        });
        if (opts.json === true) printJson(io, report);
        else print(io, verifyText(report));
        if (report.failure !== undefined) {
          throw new CustosError(report.failure.code, report.failure.message, {
            details: report.failure.details,
          });
        }
      });
    });
}
