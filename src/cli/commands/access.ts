// `custos access elevate|requests|approve|deny|review`: just-in-time elevation and access reviews,
// through the API (CUSTOS_URL, CUSTOS_TOKEN) so every step is authorized and in the ledger.
import type { Command } from 'commander';
import { apiClient } from '../client.ts';
import { print, printJson, type CliIo } from '../context.ts';

interface Common {
  readonly workspace: string;
  readonly json?: boolean;
}

interface Elevation {
  id: string;
  userId: string;
  role: string;
  durationSeconds: number;
  reason: string;
  state: string;
  requestedAt: string;
  expiresAt: string | null;
}

interface Review {
  cutoff: string;
  grants: {
    id: string;
    userId: string;
    role: string;
    connector: string;
    lastUsedAt: string | null;
    createdAt: string;
  }[];
  tokens: { id: string; label: string; roles: string[]; lastUsedAt: string | null; createdAt: string }[];
}

const ws = (workspace: string): string => `/api/v1/workspaces/${encodeURIComponent(workspace)}`;

function line(e: Elevation): string {
  const until = e.expiresAt === null ? '' : ` until ${e.expiresAt}`;
  return `${e.id}  ${e.state}  ${e.role} for ${e.durationSeconds}s  user ${e.userId}${until}  why: ${e.reason}`;
}

export function registerAccess(program: Command, io: CliIo): void {
  const access = program
    .command('access')
    .description('just-in-time elevation and access reviews (through the API)');
  const common = (cmd: Command): Command =>
    cmd.option('--workspace <id>', 'workspace', 'default').option('--json', 'print JSON');

  common(
    access
      .command('elevate')
      .description('ask for a role for a while; another admin approves')
      .requiredOption('--role <role>', 'role to hold')
      .requiredOption('--for <duration>', 'how long, e.g. 30m or 1h')
      .requiredOption('--why <text>', 'the reason, recorded in the ledger'),
  ).action(async (opts: Common & { role: string; for: string; why: string }) => {
    const e = await apiClient(io).request<Elevation>('POST', `${ws(opts.workspace)}/elevations`, {
      role: opts.role,
      duration: opts.for,
      reason: opts.why,
    });
    if (opts.json === true) printJson(io, e);
    else
      print(
        io,
        `requested ${line(e)}\nan admin approves with: custos access approve ${e.id} --workspace ${opts.workspace}`,
      );
  });

  common(access.command('requests').description('list elevation requests')).action(async (opts: Common) => {
    const list = await apiClient(io).request<Elevation[]>('GET', `${ws(opts.workspace)}/elevations`);
    if (opts.json === true) printJson(io, list);
    else print(io, list.length === 0 ? 'no elevation requests' : list.map(line).join('\n'));
  });

  for (const decision of ['approve', 'deny'] as const) {
    common(
      access.command(`${decision} <id>`).description(`${decision} an elevation request (not your own)`),
    ).action(async (id: string, opts: Common) => {
      const e = await apiClient(io).request<Elevation>(
        'POST',
        `${ws(opts.workspace)}/elevations/${encodeURIComponent(id)}/${decision}`,
      );
      if (opts.json === true) printJson(io, e);
      else print(io, `${decision === 'approve' ? 'approved' : 'denied'} ${line(e)}`);
    });
  }

  common(
    access
      .command('review')
      .description('list grants and tokens unused for N days; --revoke revokes them all in one step')
      .option('--unused-days <n>', 'days without use', '90')
      .option('--revoke', 'revoke every listed grant and token'),
  ).action(async (opts: Common & { unusedDays: string; revoke?: boolean }) => {
    const client = apiClient(io);
    const days = encodeURIComponent(opts.unusedDays);
    const review = await client.request<Review>(
      'GET',
      `${ws(opts.workspace)}/access-review?unusedDays=${days}`,
    );
    let revoked: { grants: number; tokens: number } | undefined;
    if (opts.revoke === true && (review.grants.length > 0 || review.tokens.length > 0)) {
      revoked = await client.request('POST', `${ws(opts.workspace)}/access-review/revoke`, {
        grantIds: review.grants.map((g) => g.id),
        tokenIds: review.tokens.map((t) => t.id),
      });
    }
    if (opts.json === true) {
      printJson(io, { ...review, ...(revoked === undefined ? {} : { revoked }) });
      return;
    }
    const lines = [
      `unused since ${review.cutoff}: ${review.grants.length} grant(s), ${review.tokens.length} token(s)`,
      ...review.grants.map(
        (g) =>
          `grant ${g.id}  ${g.role}@${g.connector}  user ${g.userId}  last used ${g.lastUsedAt ?? 'never'}`,
      ),
      ...review.tokens.map(
        (t) => `token ${t.id}  ${t.label}  [${t.roles.join(', ')}]  last used ${t.lastUsedAt ?? 'never'}`,
      ),
    ];
    if (revoked !== undefined)
      lines.push(`revoked ${revoked.grants} grant(s) and ${revoked.tokens} token(s)`);
    else if (review.grants.length + review.tokens.length > 0) lines.push('revoke them all with --revoke');
    print(io, lines.join('\n'));
  });
}
