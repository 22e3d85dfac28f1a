// Cedar on the command line: every leaf command declares its catalog action or says why it needs
// none; a token caller gets exactly its roles; the local operator holds the configured roles; and
// every denial is refused before anything changes and recorded in the ledger.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACCESS, CLI_UNGUARDED } from '../../src/cli/authz.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { openHost, type Host } from '../../src/host/index.ts';
import { ACTIONS, issueToken } from '../../src/iam/index.ts';
import { renderCliTable } from '../../scripts/access-matrix.ts';
import { cli, tempDataDir } from '../helpers/cli.ts';
import { ledgerEvents } from '../server/harness.ts';

function leaves(cmd: Command, path: string[] = []): string[] {
  if (cmd.commands.length === 0) return [path.join(' ')];
  return cmd.commands.flatMap((c) => leaves(c, [...path, c.name()]));
}

const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: {},
  readStdin: () => Promise.resolve(''),
};

describe('CLI authorization table', () => {
  it('puts every leaf command in exactly one of the two tables, with catalog actions', async () => {
    const all = leaves(await buildProgram(io));
    expect(all.length).toBeGreaterThan(40);
    const missing = all.filter((p) => Object.hasOwn(CLI_ACCESS, p) === Object.hasOwn(CLI_UNGUARDED, p));
    expect(missing).toEqual([]);
    const stale = [...Object.keys(CLI_ACCESS), ...Object.keys(CLI_UNGUARDED)].filter((p) => !all.includes(p));
    expect(stale).toEqual([]);
    for (const [path, accessOf] of Object.entries(CLI_ACCESS)) {
      const access = accessOf({ workspace: 'default', ledger: 'system' });
      expect(Object.hasOwn(ACTIONS, access.action), path).toBe(true);
    }
  });
});

describe('CLI commands under the access policy', () => {
  let data: string;
  let tokens: { auditor: string; admin: string; revoked: string };

  async function withHost<T>(fn: (host: Host) => Promise<T>): Promise<T> {
    const host = await openHost({ dataDir: data, env: {} });
    try {
      return await fn(host);
    } finally {
      await host.close();
    }
  }

  beforeAll(async () => {
    data = tempDataDir();
    expect((await cli(['--data', data, 'init', '--json'])).code).toBe(0);
    tokens = await withHost(async (host) => {
      const db = host.store.db;
      const auditor = await issueToken(db, { workspaceId: 'default', roles: ['auditor'], label: 'audit' });
      const admin = await issueToken(db, { workspaceId: 'default', roles: ['admin'], label: 'adm' });
      const revoked = await issueToken(db, { workspaceId: 'default', roles: ['admin'], label: 'gone' });
      await db
        .updateTable('api_tokens')
        .set({ revoked_at: new Date().toISOString() })
        .where('id', '=', revoked.id)
        .execute();
      return { auditor: auditor.token, admin: admin.token, revoked: revoked.token };
    });
  });

  it('lets a token do what its roles allow and refuses the rest, recording the denial', async () => {
    const env = { CUSTOS_TOKEN: tokens.auditor };
    const listed = await cli(['--data', data, 'keys', 'list', '--workspace', 'default', '--json'], env);
    expect(listed.code).toBe(0);
    // Access reviews see the token as used.
    const used = await withHost((host) =>
      host.store.db
        .selectFrom('api_tokens')
        .select('last_used_at')
        .where('label', '=', 'audit')
        .executeTakeFirst(),
    );
    expect(used?.last_used_at).toEqual(expect.any(String));
    const before = JSON.parse(listed.stdout) as unknown[];

    const rotate = await cli(['--data', data, 'keys', 'rotate', '--workspace', 'default', '--json'], env);
    expect(rotate.code).toBe(1);
    expect(JSON.parse(rotate.stderr)).toMatchObject({
      code: 'IAM_ACCESS_DENIED',
      status: 403,
      field: 'CUSTOS_TOKEN',
      rule: 'action key.rotate on workspace default (no role grants it)',
    });
    expect(rotate.stderr).not.toContain(tokens.auditor);
    const after = JSON.parse(
      (await cli(['--data', data, 'keys', 'list', '--workspace', 'default', '--json'], env)).stdout,
    ) as unknown[];
    expect(after).toEqual(before);

    const events = await withHost((host) => ledgerEvents(host, 'default'));
    const denied = events.filter((e) => e.action === 'iam.access.denied');
    expect(denied.at(-1)).toMatchObject({
      outcome: 'denied',
      resource: { kind: 'command', id: 'keys rotate' },
      actor: { kind: 'token' },
      details: { action: 'key.rotate', via: 'token' },
    });
    expect(denied.at(-1)?.correlationId).toMatch(/^cli-[0-9a-f-]{36}$/);
  });

  it('records the token caller, not the local operator, as the actor of what it does', async () => {
    const r = await cli(['--data', data, 'keys', 'rotate', '--workspace', 'default', '--json'], {
      CUSTOS_TOKEN: tokens.admin,
    });
    expect(r.code).toBe(0);
    const events = await withHost((host) => ledgerEvents(host, 'default'));
    const rotated = events.filter((e) => e.action.startsWith('key.') && e.action.includes('rotate'));
    expect(rotated.at(-1)?.actor.kind).toBe('token');
  });

  it('refuses revoked and malformed tokens with 401-class errors', async () => {
    for (const token of [tokens.revoked, 'cus_not-a-token']) {
      const r = await cli(['--data', data, 'keys', 'list', '--workspace', 'default', '--json'], {
        CUSTOS_TOKEN: token,
      });
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stderr)).toMatchObject({ code: 'IAM_TOKEN_INVALID', status: 401 });
    }
  });

  it('gives the local operator the configured roles, and nothing when none are configured', async () => {
    const none = { CUSTOS_IAM_LOCAL_OPERATOR_ROLES: '' };
    const denied = await cli(['--data', data, 'ledger', 'key', '--ledger', 'default'], none);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('IAM_ACCESS_DENIED');
    expect(denied.stderr).toContain('iam.localOperatorRoles');

    const auditorOnly = { CUSTOS_IAM_LOCAL_OPERATOR_ROLES: 'auditor' };
    expect((await cli(['--data', data, 'ledger', 'key', '--ledger', 'default'], auditorOnly)).code).toBe(0);
    const shred = await cli(
      ['--data', data, 'keys', 'shred-subject', '--workspace', 'default', '--subject', 'person-1', '--json'],
      auditorOnly,
    );
    expect(shred.code).toBe(1);
    expect(JSON.parse(shred.stderr)).toMatchObject({ code: 'IAM_ACCESS_DENIED' });

    const events = await withHost((host) => ledgerEvents(host, 'default'));
    expect(events.filter((e) => e.action === 'iam.access.denied').at(-1)).toMatchObject({
      actor: { kind: 'local-operator' },
      resource: { kind: 'command', id: 'keys shred-subject' },
      details: { action: 'subject.shred', via: 'local' },
    });
    expect((await cli(['--data', data, 'keys', 'list', '--workspace', 'default'])).code).toBe(0);
  });

  it('lets an auditor read masked records but not reveal them', async () => {
    const env = { CUSTOS_TOKEN: tokens.auditor };
    const base = ['--data', data, 'records', 'get', '--type', 'person', '--id', 'p1', '--json'];
    const masked = await cli(base, env);
    expect(JSON.parse(masked.stderr)).not.toMatchObject({ code: 'IAM_ACCESS_DENIED' });
    const reveal = await cli([...base, '--reveal', '--purpose', 'support case 7'], env);
    expect(reveal.code).toBe(1);
    expect(JSON.parse(reveal.stderr)).toMatchObject({
      code: 'IAM_ACCESS_DENIED',
      rule: 'action record.reveal on workspace default (no role grants it)',
    });
    const admin = await cli([...base, '--reveal', '--purpose', 'support case 7'], {
      CUSTOS_TOKEN: tokens.admin,
    });
    expect(JSON.parse(admin.stderr)).not.toMatchObject({ code: 'IAM_ACCESS_DENIED' });
  });
});

describe('docs/access.md', () => {
  it('lists every command with the action it asks for, as the code declares it', () => {
    const doc = readFileSync(new URL('../../docs/access.md', import.meta.url), 'utf8');
    const from = doc.indexOf('<!-- cli:begin -->');
    const to = doc.indexOf('<!-- cli:end -->');
    expect(doc.slice(from + '<!-- cli:begin -->'.length, to).trim()).toBe(renderCliTable());
  });
});

describe('CLI command tree', () => {
  const top = async (argv?: readonly string[]): Promise<string[]> =>
    (await buildProgram(io, argv)).commands.map((c) => c.name());

  it('loads only the command a command line names, and every command for help or an unknown one', async () => {
    const all = await top();
    expect(all).toContain('serve');
    expect(await top(['--data', 'keys', 'keys', 'list'])).toEqual(['keys']);
    expect(await top(['--data=x', 'workflow', 'deploy', 'f.yaml'])).toEqual(['workflow']);
    for (const argv of [[], ['--help'], ['-h', 'keys'], ['help', 'keys'], ['nosuch']])
      expect(await top(argv)).toEqual(all);
    const workflow = (await buildProgram(io, ['workflow'])).commands[0]?.commands.map((c) => c.name());
    expect(workflow).toEqual(
      (await buildProgram(io)).commands.find((c) => c.name() === 'workflow')?.commands.map((c) => c.name()),
    );
  });
});
