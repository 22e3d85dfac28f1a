// Rewrites the route × role table of docs/access.md from the OpenAPI document the server serves
// and the action catalog: `node scripts/access-matrix.ts`. The table states what the policy is
// meant to let through; test/server/matrix.test.ts then calls every route with a token of every
// role and fails where the server does otherwise, so the table cannot drift from the server.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initInstallation, openHost } from '../src/host/index.ts';
import { ROLES } from '../src/iam/index.ts';
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
    const text = readFileSync(file, 'utf8');
    const from = text.indexOf(BEGIN);
    const to = text.indexOf(END);
    if (from < 0 || to < from) throw new Error('docs/access.md lacks the matrix markers');
    const table = renderMatrix(res.json());
    writeFileSync(file, `${text.slice(0, from + BEGIN.length)}\n\n${table}\n\n${text.slice(to)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.filename === process.argv[1]) await main();
