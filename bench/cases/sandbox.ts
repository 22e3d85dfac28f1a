// Code steps: sandboxed runs per second (a worker and a fresh QuickJS WebAssembly module per job,
// started ahead of need) next to the same script run by QuickJS in this thread with one shared
// module: what the per-job isolation costs once workers are kept warm.
import { loadQuickJsModule } from '../../src/engine/sandbox/quickjs.ts';
import { closeSandboxWorkers, runSandbox } from '../../src/engine/sandbox/index.ts';
import type { BenchCase } from '../types.ts';

const SOURCE = `function main(input, helpers) {
  const out = [];
  for (const item of input.items) out.push({ id: item.id, total: item.qty * item.price, tag: helpers.mask.email(item.email) });
  return { count: out.length, out };
}`;
const INPUT = {
  items: Array.from({ length: 20 }, (_, i) => ({
    id: i,
    qty: i % 7,
    price: 3.5,
    email: `p${i}@example.com`,
  })),
};
const JOBS = 60;

async function ours(): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    const t = performance.now();
    await runSandbox({ source: SOURCE, input: INPUT, helpers: ['mask'] });
    latencies.push(performance.now() - t);
    // A workflow run does other work between code steps (store, http, ledger); leave the pool a moment.
    await new Promise((r) => setTimeout(r, 5));
  }
  return latencies;
}

async function baseline(): Promise<number[]> {
  const module = await loadQuickJsModule();
  const latencies: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    const t = performance.now();
    const vm = module.newContext();
    const mask = vm.newObject();
    const email = vm.newFunction('email', (h) => vm.newString(vm.getString(h).replace(/^[^@]*/, '***')));
    vm.setProp(mask, 'email', email);
    const helpers = vm.newObject();
    vm.setProp(helpers, 'mask', mask);
    vm.unwrapResult(vm.evalCode(SOURCE)).dispose();
    const main = vm.getProp(vm.global, 'main');
    const input = vm.unwrapResult(vm.evalCode(`(${JSON.stringify(INPUT)})`));
    const result = vm.unwrapResult(vm.callFunction(main, vm.undefined, input, helpers));
    JSON.stringify(vm.dump(result));
    for (const h of [result, input, main, helpers, email, mask]) h.dispose();
    vm.dispose();
    latencies.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 5));
  }
  return latencies;
}

const seconds = (l: readonly number[]): number => l.reduce((a, b) => a + b, 0) / 1000;
const p = (l: readonly number[], q: number): number =>
  [...l].sort((a, b) => a - b)[Math.floor(q * (l.length - 1))] ?? 0;

export const cases: BenchCase[] = [
  {
    name: 'code step: sandboxed jobs/s (own worker + fresh QuickJS module per job, kept warm) vs QuickJS in-thread',
    unit: 'jobs/s',
    target: 0,
    async run() {
      try {
        await ours(); // warm-up
        const o = await ours();
        const b = await baseline();
        return {
          ours: JOBS / seconds(o),
          baseline: JOBS / seconds(b),
          extra: { 'p50 ms': p(o, 0.5), 'p99 ms': p(o, 0.99), 'in-thread p50 ms': p(b, 0.5) },
        };
      } finally {
        await closeSandboxWorkers();
      }
    },
  },
];
