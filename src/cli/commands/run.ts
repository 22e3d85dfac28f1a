// `custos run NAME --input @FILE [--wait] [--json]`: start a run of a deployed workflow (manual
// trigger) as the local operator; with --wait an in-process worker drives it and the exit code is
// 0 only when the run succeeded.
import type { Command } from 'commander';
import type { JsonValue } from '../../crypto/index.ts';
import { installationRuntime, type InstallationRuntime, type RunView } from '../../engine/index.ts';
import { CustosError } from '../../errors/index.ts';
import type { Host } from '../../host/index.ts';
import { print, printJson, readInputFile, withHost, type CliIo } from '../context.ts';

/** The installation's runtime; `--dev-egress` hosts may be reached over plain HTTP and loopback. */
export function hostRuntime(host: Host, devEgress?: string): InstallationRuntime {
  const hosts =
    devEgress === undefined
      ? []
      : devEgress
          .split(',')
          .map((h) => h.trim())
          .filter((h) => h !== '');
  return installationRuntime({
    store: host.store,
    keyring: host.keyring,
    audit: host.audit,
    logger: host.logger,
    custody: host,
    ...(hosts.length === 0 ? {} : { devEgress: { hosts } }),
  });
}

/** Parse `--input`: `@FILE`, `-` (stdin) or inline JSON. Throws INPUT_INVALID naming the flag. */
export async function readJsonInput(value: string | undefined, io: CliIo): Promise<JsonValue> {
  if (value === undefined) return {};
  const text =
    value === '-'
      ? await io.readStdin()
      : value.startsWith('@')
        ? readInputFile(value.slice(1), '--input')
        : value;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new CustosError('INPUT_INVALID', '--input is not valid JSON', {
      details: { field: '--input', rule: 'JSON object' },
    });
  }
}

/** Parse a positive integer option. Throws INPUT_INVALID naming the flag. */
export function positiveInt(value: string | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) {
    throw new CustosError('INPUT_INVALID', `${field} must be a positive integer`, {
      details: { field, rule: 'integer ≥ 1' },
    });
  }
  return Number(value);
}

/** What `--json` prints for a run. */
export function runJson(view: RunView): Record<string, unknown> {
  return {
    runId: view.runId,
    status: view.status,
    workflow: view.workflow,
    version: view.version,
    environment: view.environment,
    correlationId: view.correlationId,
    errorCode: view.errorCode,
    steps: view.steps,
  };
}

/** Print a run's log for people: one line per attempt. */
export function printRun(io: CliIo, view: RunView): void {
  print(
    io,
    `run ${view.runId}  ${view.workflow}@${view.version} (${view.environment})  ${view.status}${view.errorCode === null ? '' : `  ${view.errorCode}`}`,
  );
  print(io, `  correlation ${view.correlationId}`);
  for (const s of view.steps) {
    const ms = s.durationMs === null ? '-' : `${Math.round(s.durationMs)}ms`;
    print(
      io,
      `  #${s.seq} ${s.stepId} (${s.kind}) attempt ${s.attempt}: ${s.outcome} ${ms}${s.errorCode === null ? '' : ` ${s.errorCode}`}`,
    );
    print(io, `      in  ${JSON.stringify(s.inputSummary)}`);
    if (s.outputSummary !== null) print(io, `      out ${JSON.stringify(s.outputSummary)}`);
  }
}

/** Throw when a waited-for run did not succeed, so the exit code says so. */
export function requireSuccess(view: RunView): void {
  if (view.status === 'succeeded') return;
  throw new CustosError('RUNTIME_STEP_FAILED', `Run ${view.runId} ended ${view.status}`, {
    details: { field: 'run', rule: 'succeeded', status: view.status, code: view.errorCode ?? '' },
  });
}

interface RunOptions {
  readonly input?: string;
  readonly workspace: string;
  readonly env: string;
  readonly wait?: boolean;
  readonly json?: boolean;
  readonly idempotencyKey?: string;
  readonly timeout?: string;
  readonly devEgress?: string;
}

export function registerRun(program: Command, io: CliIo): void {
  program
    .command('run')
    .description('start a run of a deployed workflow (manual trigger); --wait drives it to the end')
    .argument('<workflow>', 'workflow name')
    .option('--input <json|@file|->', 'run input: inline JSON, @FILE or - for stdin', undefined)
    .option('--workspace <id>', 'workspace', 'default')
    .option('--env <id>', 'environment', 'dev')
    .option('--idempotency-key <key>', 'start at most one run for this key')
    .option('--wait', 'drive the run in this process and wait until it settles')
    .option('--timeout <seconds>', 'with --wait: give up after this long', '300')
    .option('--dev-egress <hosts>', 'development only: comma-separated hosts reachable over HTTP/loopback')
    .option('--json', 'print {"runId","status","steps":[…]}')
    .action(async (workflow: string, opts: RunOptions, cmd: Command) => {
      const input = await readJsonInput(opts.input, io);
      const timeoutMs = positiveInt(opts.timeout, '--timeout', 300) * 1000;
      await withHost(cmd, io, async (host, caller) => {
        const { runtime } = hostRuntime(host, opts.devEgress);
        const worker = opts.wait === true ? runtime.worker({ pollMs: 20, leaseMs: 30_000 }) : undefined;
        worker?.start();
        try {
          const started = await runtime.start({
            workspaceId: opts.workspace,
            environment: opts.env,
            workflow,
            input,
            trigger: 'manual',
            actor: caller.actor,
            ...(opts.idempotencyKey === undefined ? {} : { idempotencyKey: opts.idempotencyKey }),
          });
          if (worker === undefined) {
            if (opts.json === true)
              printJson(io, { runId: started.runId, status: started.status, created: started.created });
            else print(io, `run ${started.runId} ${started.status}`);
            return;
          }
          const view = await runtime.wait(opts.workspace, started.runId, { timeoutMs, pollMs: 20 });
          if (opts.json === true) printJson(io, runJson(view));
          else printRun(io, view);
          requireSuccess(view);
        } finally {
          await worker?.stop(5_000);
        }
      });
    });
}
