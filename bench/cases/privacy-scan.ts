// Benchmark: PII scan throughput on a 50 MB mixed corpus (prose, logs, JSON lines, PII and decoys)
// against raw SHA-256 over the same bytes in the same run.
//
// The corpus is generated in memory from a seeded PRNG, line by line: ~40% prose (some non-ASCII
// words; numbers, decoys and PII among the words), ~35% access-log lines (ISO timestamps, UUID
// request ids, paths with ids, status/bytes/duration, a client IP on half of them) and ~25% JSON
// event lines (epoch milliseconds, order ids, prices, versions, 128-bit trace ids, user e-mail and
// phone on 30%). Decoys: order numbers, ISBNs, epochs, versions, prices, UUIDs, tracking numbers,
// invoice numbers. About 2,800 findings per MB.
import { createHash } from 'node:crypto';
import { scanText } from '../../src/privacy/detect/index.ts';
import { timeSync, type BenchCase } from '../types.ts';

const CORPUS_BYTES = 50 * 1024 * 1024;
const MB = 1024 * 1024;
const RUNS = 3;

/** Mulberry32: a small seeded PRNG so the corpus is identical in every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the a of to and in for on with that this we our your team order customer account report ' +
  'shipment delivery invoice meeting review update release weekly quarter budget project plan ' +
  'please confirm thanks regarding attached following issue ticket support request service ' +
  'delayed arrived pending approved rejected scheduled payment refund total items warehouse ' +
  'contact details below above noted discussed agreed next steps follow up today tomorrow ' +
  'café Zürich naïve “urgent” – résumé Straße'
).split(' ');

// PII values are public test data: card test numbers, reserved phone ranges, example domains,
// IBANs from published examples, SSNs from never-issued-looking but valid ranges.
const EMAILS = [
  'jane.doe@example.com',
  'j.smith+news@example.org',
  'ops-team@mail.example.net',
  'a.b@example.co.uk',
];
const PHONES = ['(202) 555-0147', '+1 202 555 0183', '202-555-0110', '+44 20 7946 0321', '+49 30 901820'];
const CARDS = ['4111 1111 1111 1111', '5555555555554444', '3782 822463 10005', '4012-8888-8888-1881'];
const IBANS = ['DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432', 'FR14 2004 1010 0505 0001 3M02 606'];
const SSNS = ['234-56-7891', '512-34-6789'];
const IPS = ['203.0.113.7', '198.51.100.23', '192.0.2.44', '10.12.7.201', '2001:db8::8a2e:370:7334'];

interface Gen {
  readonly r: () => number;
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
}

function gen(seed: number): Gen {
  const r = prng(seed);
  return {
    r,
    int: (lo, hi) => lo + Math.floor(r() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T,
  };
}

function hex(g: Gen, n: number): string {
  let s = '';
  for (let k = 0; k < n; k++) s += '0123456789abcdef'.charAt(g.int(0, 15));
  return s;
}

function uuid(g: Gen): string {
  return `${hex(g, 8)}-${hex(g, 4)}-4${hex(g, 3)}-a${hex(g, 3)}-${hex(g, 12)}`;
}

function decoy(g: Gen): string {
  switch (g.int(0, 9)) {
    case 0:
      return `order #${g.int(1000000, 99999999)}`;
    case 1:
      return `ISBN ${g.pick(['978-3-16-148410-0', '0-306-40615-2', '9780306406157'])}`;
    case 2:
      return `v${g.int(0, 12)}.${g.int(0, 40)}.${g.int(0, 200)}`;
    case 3:
      return `at ${g.int(1600000000, 1800000000)}`;
    case 4:
      return `$${g.int(1, 9999)}.${g.int(10, 99)}`;
    case 5:
      return `tracking 1Z${hex(g, 6).toUpperCase()}${g.int(10000000, 99999999)}`;
    case 6:
      return `ref ${uuid(g)}`;
    case 7:
      return `invoice ${g.int(2019, 2025)}-${g.int(10000, 99999)}`;
    case 8:
      return `${g.int(1, 500)} items, ${g.int(2, 99)}% off`;
    default:
      return `id ${g.int(100000000000, 999999999999)}`;
  }
}

function pii(g: Gen): string {
  switch (g.int(0, 6)) {
    case 0:
      return `email ${g.pick(EMAILS)}`;
    case 1:
      return `call ${g.pick(PHONES)}`;
    case 2:
      return `card ${g.pick(CARDS)}`;
    case 3:
      return `IBAN ${g.pick(IBANS)}`;
    case 4:
      return `SSN ${g.pick(SSNS)}`;
    case 5:
      return `born ${g.int(1940, 2005)}-0${g.int(1, 9)}-${g.int(10, 28)}`;
    default:
      return `from ${g.pick(IPS)}`;
  }
}

function prose(g: Gen): string {
  const parts: string[] = [];
  const words = g.int(12, 30);
  for (let k = 0; k < words; k++) {
    const x = g.r();
    if (x < 0.025) parts.push(decoy(g));
    else if (x < 0.035) parts.push(pii(g));
    else if (x < 0.06) parts.push(String(g.int(1, 2025)));
    else parts.push(g.pick(WORDS));
  }
  return `${parts.join(' ')}.`;
}

function logLine(g: Gen): string {
  const ts = `2025-0${g.int(1, 9)}-1${g.int(0, 9)}T${g.int(10, 23)}:${g.int(10, 59)}:${g.int(10, 59)}.${g.int(100, 999)}Z`;
  const level = g.pick(['INFO', 'INFO', 'INFO', 'WARN', 'DEBUG', 'ERROR']);
  const path = `/api/v${g.int(1, 3)}/${g.pick(['orders', 'users', 'items', 'runs'])}/${g.int(1, 999999)}`;
  const client = g.r() < 0.5 ? ` client=${g.pick(IPS)}` : '';
  const extra = g.r() < 0.05 ? ` note="${pii(g)}"` : g.r() < 0.3 ? ` ${decoy(g)}` : '';
  return (
    `${ts} ${level} [worker-${g.int(1, 16)}] req=${uuid(g)} ${g.pick(['GET', 'POST', 'PUT'])} ${path} ` +
    `${g.pick([200, 200, 201, 204, 400, 404, 500])} ${g.int(80, 90000)} ${g.int(1, 900)}ms${client}${extra}`
  );
}

function jsonLine(g: Gen): string {
  const user =
    g.r() < 0.3
      ? `,"user":{"email":"${g.pick(EMAILS)}","phone":"${g.pick(PHONES)}"}`
      : `,"user":{"id":"u_${hex(g, 10)}"}`;
  return (
    `{"ts":${g.int(1600000000000, 1800000000000)},"event":"${g.pick(['order.created', 'run.finished', 'item.updated'])}",` +
    `"order_id":"ORD-2025-${g.int(100000, 999999)}","qty":${g.int(1, 20)},"price":${g.int(1, 999)}.${g.int(10, 99)},` +
    `"version":"${g.int(1, 9)}.${g.int(0, 30)}.${g.int(0, 99)}","trace":"${hex(g, 32)}"${user}}`
  );
}

/** A deterministic mixed corpus of about `bytes` UTF-16 code units (a little more in UTF-8). */
export function generateMixedCorpus(bytes: number, seed = 0x5eed): string {
  const g = gen(seed);
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const x = g.r();
    const line = x < 0.4 ? prose(g) : x < 0.75 ? logLine(g) : jsonLine(g);
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n');
}

function best(runs: number, fn: () => void): number {
  let min = Infinity;
  for (let k = 0; k < runs; k++) min = Math.min(min, timeSync(fn));
  return min;
}

export const cases: BenchCase[] = [
  {
    name: 'privacy scan MB/s (50 MB mixed corpus)',
    unit: 'MB/s',
    target: 0.1,
    run() {
      const corpus = generateMixedCorpus(CORPUS_BYTES);
      const bytes = Buffer.from(corpus, 'utf8');
      const mb = bytes.length / MB;
      const warm = corpus.slice(0, MB);
      scanText(warm);
      createHash('sha256').update(bytes.subarray(0, MB)).digest();
      let findings = 0;
      const ours = best(RUNS, () => {
        findings = scanText(corpus).findings.length;
      });
      const baseline = best(RUNS, () => {
        createHash('sha256').update(bytes).digest();
      });
      return Promise.resolve({
        ours: mb / ours,
        baseline: mb / baseline,
        extra: { findings, 'findings per MB': Math.round(findings / mb) },
      });
    },
  },
];
