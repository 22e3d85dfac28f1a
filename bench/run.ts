// `npm run bench [-- --json] [-- --only TEXT]`: runs every case in bench/cases/ and prints our
// throughput next to the raw baseline measured in the same run, with the ratio and its target.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchCase } from './types.ts';

interface Row {
  name: string;
  ours: number;
  baseline: number;
  unit: string;
  ratio: number;
  target: number;
  extra?: Readonly<Record<string, number>>;
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;

const dir = join(import.meta.dirname, 'cases');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort();
const cases: BenchCase[] = [];
for (const f of files) {
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { cases?: BenchCase[] };
  cases.push(...(mod.cases ?? []));
}

const rows: Row[] = [];
for (const c of cases) {
  if (only !== undefined && !c.name.includes(only)) continue;
  if (!json) process.stderr.write(`running: ${c.name}\n`);
  const r = await c.run();
  const row: Row = {
    name: c.name,
    ours: round(r.ours),
    baseline: round(r.baseline),
    unit: c.unit,
    ratio: round(r.ours / r.baseline, 3),
    target: c.target,
    ...(r.extra === undefined ? {} : { extra: r.extra }),
  };
  rows.push(row);
  if (!json) {
    const ok = row.ratio >= row.target ? 'ok ' : 'LOW';
    const extra =
      row.extra === undefined
        ? ''
        : `  (${Object.entries(row.extra)
            .map(([k, v]) => `${k}=${round(v)}`)
            .join(', ')})`;
    process.stdout.write(
      `${ok} ${row.name}: ${row.ours} vs ${row.baseline} ${row.unit}, ratio ${row.ratio} (target ≥ ${row.target})${extra}\n`,
    );
  }
}
if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
