// `custos runs list|show|retry|cancel|approve|reject`: read the run log and act on runs as the
// local operator. Only redacted summaries are printed; inputs and outputs stay sealed.
import type { Command } from 'commander';
import { RUN_STATUSES } from '../../engine/index.ts';
import { CustosError } from '../../errors/index.ts';
import { print, printJson, withHost, type CliIo } from '../context.ts';
import { hostRuntime, positiveInt, printRun, runJson } from './run.ts';

interface Common {
  readonly workspace: string;
  readonly json?: boolean;
}

interface DecideOptions extends Common {
  readonly reason: string;
  readonly step?: string;
  readonly wait?: boolean;
  readonly timeout?: string;
}

function checkStatus(status: string | undefined): string | undefined {
  if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) {
    throw new CustosError('INPUT_INVALID', '--status is not a run status', {
      details: { field: '--status', rule: RUN_STATUSES.join(', ') },
    });
  }
  return status;
}

export function registerRuns(program: Command, io: CliIo): void {
  const runs = program
    .command('runs')
    .description('list, show, retry, cancel, approve and reject workflow runs');
  runs
    .command('list')
    .description('recent runs, newest first')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--workflow <name>', 'only runs of this workflow')
    .option('--status <status>', `only runs in this status (${RUN_STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print a JSON array')
    .action(async (opts: Common & { workflow?: string; status?: string; limit?: string }, cmd: Command) => {
      const status = checkStatus(opts.status);
      const limit = positiveInt(opts.limit, '--limit', 50);
      await withHost(cmd, io, async (host) => {
        const list = await hostRuntime(host).runtime.list({
          workspaceId: opts.workspace,
          limit,
          ...(opts.workflow === undefined ? {} : { workflow: opts.workflow }),
          ...(status === undefined ? {} : { status }),
        });
        if (opts.json === true) {
          printJson(io, list);
          return;
        }
        for (const r of list) {
          print(
            io,
            `${r.runId}  ${r.workflow}@${r.version}  ${r.status}  ${r.createdAt}${r.errorCode === null ? '' : `  ${r.errorCode}`}`,
          );
        }
      });
    });
  runs
    .command('show')
    .description('one run with every step attempt (redacted summaries)')
    .argument('<runId>')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--json', 'print the run with its steps as JSON')
    .action(async (runId: string, opts: Common, cmd: Command) => {
      await withHost(cmd, io, async (host) => {
        const view = await hostRuntime(host).runtime.show(opts.workspace, runId);
        if (opts.json === true) printJson(io, { ...view, ...runJson(view) });
        else printRun(io, view);
      });
    });
  for (const [name, description] of [
    ['retry', 'retry a dead-lettered run from its failed step, or resume a halted one'],
    ['cancel', 'cancel a run (a running step is aborted)'],
  ] as const) {
    runs
      .command(name)
      .description(description)
      .argument('<runId>')
      .option('--workspace <id>', 'workspace', 'default')
      .option('--json', 'print the run summary as JSON')
      .action(async (runId: string, opts: Common, cmd: Command) => {
        await withHost(cmd, io, async (host, caller) => {
          const { runtime } = hostRuntime(host);
          const summary =
            name === 'retry'
              ? await runtime.retry(opts.workspace, runId, caller.actor)
              : await runtime.cancel(opts.workspace, runId, caller.actor);
          if (opts.json === true) printJson(io, summary);
          else print(io, `run ${summary.runId} ${summary.status}`);
        });
      });
  }
  for (const [name, description] of [
    ['approve', 'approve the approval step a run waits at (not the run you started)'],
    ['reject', 'reject the approval step a run waits at; the run fails unless the step names onReject'],
  ] as const) {
    runs
      .command(name)
      .description(description)
      .argument('<runId>')
      .requiredOption('--reason <text>', 'why (sealed with the run; the ledger keeps its digest)')
      .option('--step <id>', 'the approval step meant; refused when the run waits elsewhere')
      .option('--workspace <id>', 'workspace', 'default')
      .option('--wait', 'drive the resumed run in this process until it settles, then print its log')
      .option('--timeout <seconds>', 'with --wait: give up after this long', '300')
      .option('--json', 'print the run summary (with --wait: the run and its steps) as JSON')
      .action(async (runId: string, opts: DecideOptions, cmd: Command) => {
        const timeoutMs = positiveInt(opts.timeout, '--timeout', 300) * 1000;
        await withHost(cmd, io, async (host, caller) => {
          const { runtime } = hostRuntime(host);
          const summary = await runtime.decide({
            workspaceId: opts.workspace,
            runId,
            decision: name,
            reason: opts.reason,
            actor: caller.actor,
            // The local operator holds every role on its own installation; the ledger names it.
            roles: 'all',
            ...(opts.step === undefined ? {} : { stepId: opts.step }),
          });
          if (opts.wait !== true) {
            if (opts.json === true) printJson(io, summary);
            else
              print(
                io,
                `run ${summary.runId} ${name === 'approve' ? 'approved' : 'rejected'}, ${summary.status}`,
              );
            return;
          }
          const worker = runtime.worker({ pollMs: 20 });
          worker.start();
          try {
            const view = await runtime.wait(opts.workspace, runId, { timeoutMs, pollMs: 20 });
            if (opts.json === true) printJson(io, runJson(view));
            else printRun(io, view);
          } finally {
            await worker.stop(5_000);
          }
        });
      });
  }
}
