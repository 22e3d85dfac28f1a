// Precision and recall per category on the labelled corpus (test/fixtures/pii-corpus), where a
// finding matches a label of the same category whose span it overlaps.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scanText } from '../../../src/privacy/detect/index.ts';

interface Label {
  readonly category: string;
  readonly start: number;
  readonly end: number;
}
interface Sample {
  readonly text: string;
  readonly labels: readonly Label[];
}

const corpus: Sample[] = readFileSync(
  new URL('../../fixtures/pii-corpus/labelled.jsonl', import.meta.url),
  'utf8',
)
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Sample);

const overlaps = (a: Label, b: Label): boolean =>
  a.category === b.category && a.start < b.end && b.start < a.end;

interface Tally {
  tp: number;
  fp: number;
  fn: number;
}

function evaluate(): Map<string, Tally> {
  const tallies = new Map<string, Tally>();
  const tally = (c: string): Tally => {
    let t = tallies.get(c);
    if (t === undefined) {
      t = { tp: 0, fp: 0, fn: 0 };
      tallies.set(c, t);
    }
    return t;
  };
  for (const s of corpus) {
    const { findings } = scanText(s.text);
    for (const f of findings) {
      if (s.labels.some((l) => overlaps(l, f))) tally(f.category).tp++;
      else tally(f.category).fp++;
    }
    for (const l of s.labels) if (!findings.some((f) => overlaps(l, f))) tally(l.category).fn++;
  }
  return tallies;
}

describe('detector quality on the labelled corpus', () => {
  const tallies = evaluate();
  const rows = [...tallies.entries()].sort(([a], [b]) => a.localeCompare(b));
  const precision = (t: Tally): number => (t.tp + t.fp === 0 ? 1 : t.tp / (t.tp + t.fp));
  const recall = (t: Tally): number => (t.tp + t.fn === 0 ? 1 : t.tp / (t.tp + t.fn));

  it('prints the precision/recall table', () => {
    const table = rows.map(([c, t]) => ({
      category: c,
      tp: t.tp,
      fp: t.fp,
      fn: t.fn,
      precision: precision(t).toFixed(3),
      recall: recall(t).toFixed(3),
    }));
    console.log(`corpus: ${corpus.length} lines, ${corpus.reduce((n, s) => n + s.labels.length, 0)} labels`);
    console.table(table);
    expect(corpus.length).toBeGreaterThan(500);
  });

  it('has at least 300 positives across email, card, IBAN and phone, and 200 negative lines', () => {
    const core = corpus
      .flatMap((s) => s.labels)
      .filter((l) => ['email', 'payment_card', 'iban', 'phone'].includes(l.category));
    expect(core.length).toBeGreaterThanOrEqual(300);
    expect(corpus.filter((s) => s.labels.length === 0).length).toBeGreaterThanOrEqual(200);
  });

  for (const category of ['email', 'payment_card', 'iban', 'phone']) {
    it(`${category}: precision and recall >= 0.95`, () => {
      const t = tallies.get(category) ?? { tp: 0, fp: 0, fn: 0 };
      expect(t.tp).toBeGreaterThan(0);
      expect(precision(t)).toBeGreaterThanOrEqual(0.95);
      expect(recall(t)).toBeGreaterThanOrEqual(0.95);
    });
  }
});
