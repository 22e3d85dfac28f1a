// `custos secrets set|rotate|delete|list|versions|schedule|overdue`: the write-only vault from the CLI.
// Values come from stdin or a file, never from argv (visible in ps and shell history); nothing prints one.
import type { Command } from 'commander';
import { CustosError } from '../../errors/index.ts';
import { SecretsVault, type SecretMetadata } from '../../secrets/index.ts';
import { print, printJson, readInputFile, withHost, type CliIo } from '../context.ts';
import type { Host } from '../../host/index.ts';

interface ScopeOptions {
  readonly workspace: string;
  readonly connector: string;
  readonly env?: string;
  readonly json?: boolean;
}

interface ValueOptions extends ScopeOptions {
  readonly fromFile?: string;
  readonly rotateEvery?: string;
  readonly keepNewline?: boolean;
}

function vaultOf(host: Host): SecretsVault {
  return new SecretsVault({ store: host.store, keyring: host.keyring, audit: host.audit });
}

function parseDays(value: string | undefined, field: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  if (!/^\d{1,4}$/.test(value)) {
    throw new CustosError('SECRETS_SCHEDULE_INVALID', `${field} must be a number of days or "none"`, {
      details: { field, rule: 'integer 1..3650 or none' },
    });
  }
  return Number(value);
}

/** The value from --from-file or stdin; one trailing newline (from `echo` or an editor) is dropped. */
async function readValue(io: CliIo, opts: ValueOptions): Promise<string> {
  const raw =
    opts.fromFile === undefined ? await io.readStdin() : readInputFile(opts.fromFile, '--from-file');
  return opts.keepNewline === true ? raw : raw.replace(/\r?\n$/, '');
}

function line(m: SecretMetadata): string {
  const schedule =
    m.rotateEveryDays === null
      ? 'no rotation schedule'
      : `rotate every ${m.rotateEveryDays}d, next ${m.nextRotationAt ?? '-'}`;
  return `${m.name}  connector=${m.connector} env=${m.env} v${m.version} ${m.state}  ${schedule}  by ${m.createdBy} at ${m.createdAt}`;
}

function scoped(cmd: Command, withValue: boolean): Command {
  cmd
    .requiredOption('--connector <id>', 'connector the secret is scoped to')
    .option('--env <id>', 'environment (default: every environment)')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--json', 'print metadata as JSON');
  if (withValue) {
    cmd
      .option('--from-file <file>', 'read the value from a file instead of stdin')
      .option('--keep-newline', 'keep a trailing newline in the value')
      .option('--rotate-every <days>', 'rotation interval in days, or "none"');
  }
  return cmd;
}

export function registerSecrets(program: Command, io: CliIo): void {
  const secrets = program.command('secrets').description('write-only secrets vault (values are never shown)');

  for (const mode of ['set', 'rotate'] as const) {
    scoped(
      secrets
        .command(`${mode} <name>`)
        .description(
          mode === 'set'
            ? 'store a new secret; value from stdin or --from-file'
            : 'replace the value with a new version',
        ),
      true,
    ).action(async (name: string, opts: ValueOptions, cmd: Command) => {
      const rotateEveryDays = parseDays(opts.rotateEvery, '--rotate-every');
      const value = await readValue(io, opts);
      const meta = await withHost(cmd, io, (host, caller) => {
        const input = {
          workspace: opts.workspace,
          name,
          connector: opts.connector,
          ...(opts.env === undefined ? {} : { env: opts.env }),
          value,
          ...(rotateEveryDays === undefined ? {} : { rotateEveryDays }),
          actor: caller.actor,
          correlationId: caller.correlationId,
        };
        return mode === 'set' ? vaultOf(host).set(input) : vaultOf(host).rotate(input);
      });
      if (opts.json === true) printJson(io, meta);
      else
        print(
          io,
          `${mode === 'set' ? 'Stored' : 'Rotated'} ${meta.name} (connector ${meta.connector}, env ${meta.env}) as version ${meta.version}.`,
        );
    });
  }

  scoped(
    secrets.command('delete <name>').description('delete a secret: every version is wiped'),
    false,
  ).action(async (name: string, opts: ScopeOptions, cmd: Command) => {
    const result = await withHost(cmd, io, (host, caller) =>
      vaultOf(host).delete({
        workspace: opts.workspace,
        name,
        connector: opts.connector,
        ...(opts.env === undefined ? {} : { env: opts.env }),
        actor: caller.actor,
        correlationId: caller.correlationId,
      }),
    );
    if (opts.json === true) printJson(io, { name, deleted: true, versionsWiped: result.versions });
    else print(io, `Deleted ${name}; ${result.versions} version(s) wiped.`);
  });

  scoped(
    secrets.command('versions <name>').description('list the versions of one secret (metadata only)'),
    false,
  ).action(async (name: string, opts: ScopeOptions, cmd: Command) => {
    const list = await withHost(cmd, io, (host) =>
      vaultOf(host).versions({
        workspace: opts.workspace,
        name,
        connector: opts.connector,
        ...(opts.env === undefined ? {} : { env: opts.env }),
      }),
    );
    if (opts.json === true) printJson(io, list);
    else for (const m of list) print(io, line(m));
  });

  secrets
    .command('schedule <name>')
    .description('set the rotation interval of a secret (days, or "none")')
    .requiredOption('--connector <id>', 'connector the secret is scoped to')
    .requiredOption('--rotate-every <days>', 'rotation interval in days, or "none"')
    .option('--env <id>', 'environment (default: every environment)')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--json', 'print metadata as JSON')
    .action(async (name: string, opts: ValueOptions & { rotateEvery: string }, cmd: Command) => {
      const days = parseDays(opts.rotateEvery, '--rotate-every') ?? null;
      const meta = await withHost(cmd, io, (host, caller) =>
        vaultOf(host).schedule({
          workspace: opts.workspace,
          name,
          connector: opts.connector,
          ...(opts.env === undefined ? {} : { env: opts.env }),
          rotateEveryDays: days,
          actor: caller.actor,
          correlationId: caller.correlationId,
        }),
      );
      if (opts.json === true) printJson(io, meta);
      else print(io, line(meta));
    });

  secrets
    .command('list')
    .description('list secrets (metadata only: values are write-only)')
    .option('--connector <id>', 'only this connector')
    .option('--env <id>', 'only this environment (* for the all-environments secrets)')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--deleted', 'include deleted secrets')
    .option('--json', 'print JSON')
    .action(
      async (
        opts: { connector?: string; env?: string; workspace: string; deleted?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const list = await withHost(cmd, io, (host) =>
          vaultOf(host).list(opts.workspace, {
            ...(opts.connector === undefined ? {} : { connector: opts.connector }),
            ...(opts.env === undefined ? {} : { env: opts.env }),
            states: opts.deleted === true ? ['active', 'deleted'] : ['active'],
          }),
        );
        if (opts.json === true) printJson(io, list);
        else if (list.length === 0) print(io, 'No secrets.');
        else for (const m of list) print(io, line(m));
      },
    );

  secrets
    .command('overdue')
    .description('report secrets past their rotation date')
    .option('--workspace <id>', 'workspace', 'default')
    .option('--json', 'print JSON')
    .action(async (opts: { workspace: string; json?: boolean }, cmd: Command) => {
      const list = await withHost(cmd, io, (host) => vaultOf(host).overdue(opts.workspace));
      if (opts.json === true) printJson(io, list);
      else if (list.length === 0) print(io, 'No secret is overdue for rotation.');
      else for (const m of list) print(io, `${line(m)}  OVERDUE ${m.daysOverdue}d`);
    });
}
