// Rewrites the route × role table of docs/access.md from the OpenAPI document the server serves
// and the action catalog: `node scripts/access-matrix.ts`. The table states what the policy is
// meant to let through; test/server/matrix.test.ts then calls every route with a token of every
// role and fails where the server does otherwise, so the table cannot drift from the server.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initInstallation, openHost } from '../src/host/index.ts';
import { CLI_ACCESS, CLI_UNGUARDED } from '../src/cli/authz.ts';
import { ACTIONS, ROLES } from '../src/iam/index.ts';
import { buildApp } from '../src/server/index.ts';

interface Op {
  readonly route: string;
  readonly action: string;
  readonly roles: readonly string[];
}

/** Code points, as the table's cells (ASCII and ✓ –) are one column each. */
const width = (text: string): number => Array.from(text).length;

const BEGIN = '<!-- matrix:begin -->';
const END = '<!-- matrix:end -->';

/** The Markdown table for the credential routes of an OpenAPI document. */
export function renderMatrix(doc: {
  paths: Record<string, Record<string, Record<string, unknown>>>;
}): string {
  const ops: Op[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (op['x-custos-auth'] !== 'credential') continue;
      const roles = (op['x-custos-roles'] ?? []) as string[];
      ops.push({ route: `${method.toUpperCase()} ${path}`, action: String(op['x-custos-action']), roles });
    }
  }
  ops.sort((a, b) => {
    const [ma = '', pa = ''] = a.route.split(' ');
    const [mb = '', pb = ''] = b.route.split(' ');
    return pa < pb ? -1 : pa > pb ? 1 : ma < mb ? -1 : ma > mb ? 1 : 0;
  });
  const header = ['route', ...ROLES, 'action'];
  const rows = ops.map((o) => [
    `\`${o.route}\``,
    ...ROLES.map((r) => (o.roles.includes('self') || o.roles.includes(r) ? '✓' : '–')),
    `\`${o.action}\``,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c + ' '.repeat((widths[i] ?? 0) - width(c))).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const CLI_BEGIN = '<!-- cli:begin -->';
const CLI_END = '<!-- cli:end -->';

/** The Markdown table of CLI commands, their actions (with the options that change them) and roles. */
export function renderCliTable(): string {
  const variants: Record<string, Record<string, unknown>[]> = {
    'records get': [{}, { reveal: true }],
    'export create': [{}, { reveal: true }],
    'export key': [{}, { rotate: true }],
  };
  const flag: Record<string, string> = { reveal: ' `--reveal`', rotate: ' `--rotate`/`--revoke`' };
  const rows: string[][] = [];
  for (const [path, accessOf] of Object.entries(CLI_ACCESS).sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const extra of variants[path] ?? [{}]) {
      const access = accessOf({ workspace: 'default', ledger: 'default', ...extra });
      const spec = ACTIONS[access.action];
      const roles = spec.roles === 'self' ? ['self'] : [...spec.roles];
      const suffix = Object.keys(extra)
        .map((k) => flag[k] ?? '')
        .join('');
      rows.push([`\`custos ${path}\`${suffix}`, `\`${access.action}\``, roles.join(', ')]);
    }
  }
  for (const [path, why] of Object.entries(CLI_UNGUARDED).sort(([a], [b]) => (a < b ? -1 : 1))) {
    rows.push([`\`custos ${path}\``, '—', why]);
  }
  const header = ['command', 'action', 'roles (or why none)'];
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c + ' '.repeat((widths[i] ?? 0) - width(c))).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function replaceBetween(text: string, begin: string, end: string, body: string): string {
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/access.md lacks ${begin}`);
  return `${text.slice(0, from + begin.length)}\n\n${body}\n\n${text.slice(to)}`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'custos-matrix-'));
  try {
    const dataDir = join(dir, 'data');
    const { adminToken } = await initInstallation({ dataDir });
    const host = await openHost({ dataDir, env: {} });
    const app = await buildApp({ host, expiryIntervalMs: 0 });
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/openapi.json',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    await app.close();
    await host.close();
    const file = new URL('../docs/access.md', import.meta.url);
    let text = readFileSync(file, 'utf8');
    text = replaceBetween(text, BEGIN, END, renderMatrix(res.json()));
    text = replaceBetween(text, CLI_BEGIN, CLI_END, renderCliTable());
    writeFileSync(file, text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.filename === process.argv[1]) await main();
