// The shape of one benchmark: our throughput next to a raw baseline measured in the same run.
export interface BenchResult {
  /** Our throughput, in `unit` (higher is better). */
  readonly ours: number;
  /** The raw baseline's throughput on the same data, in `unit`. */
  readonly baseline: number;
  /** Extra figures worth printing (latency percentiles, per-step overhead), name → value. */
  readonly extra?: Readonly<Record<string, number>>;
}

export interface BenchCase {
  readonly name: string;
  readonly unit: string;
  /** Minimum acceptable ours/baseline ratio (from the issue). */
  readonly target: number;
  run(): Promise<BenchResult>;
}

/** Operations per second of `fn` over `iterations` calls, after a warm-up. */
export function opsPerSecond(
  iterations: number,
  fn: (i: number) => void,
  warmup = Math.min(iterations, 2000),
): number {
  for (let i = 0; i < warmup; i++) fn(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return iterations / seconds;
}

/** Seconds taken by an async function. */
export async function timeAsync(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Seconds taken by a sync function. */
export function timeSync(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}
