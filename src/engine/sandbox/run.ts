// Runs a code step in a sandbox worker thread: the QuickJS interrupt handler enforces the time
// limit inside the VM, and terminating the worker enforces it (and cancellation) even while a
// native builtin runs. The event loop of the process is never blocked by user code. Each job runs in
// a QuickJS module of its own (a fresh WebAssembly instance and linear memory); a worker that ended
// a job cleanly goes back to a small idle pool for the next job, and any other worker (timeout,
// cancellation, resource exhaustion, a crash) is terminated, so no job can reach another's state.
import { Worker } from 'node:worker_threads';
import type { JsonValue } from '../../crypto/index.ts';
import { CustosError, ERROR_CODES, type ErrorCode } from '../../errors/index.ts';
import type { HelperModule } from '../definition/types.ts';
import { SANDBOX_DEFAULTS, type QuickJsJob, type SandboxErrorCode } from './quickjs.ts';
import type { SandboxMessage, SandboxReply } from './worker.ts';

export interface SandboxOptions {
  /** Script defining `function main(input, helpers)`. */
  readonly source: string;
  readonly input: JsonValue;
  readonly helpers?: readonly HelperModule[];
  readonly memoryBytes?: number;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** How long a worker may take to start; then the time limit (plus a margin) runs from its start. */
const STARTUP_LIMIT_MS = 15_000;
const TERMINATE_MARGIN_MS = 250;
const WORKER_URL = new URL('./worker.ts', import.meta.url);

/** Idle workers kept started, so a code step does not wait for a thread and a module to load. */
const IDLE_WORKERS = 2;
/** A worker is retired after this many jobs, bounding whatever a long-lived thread accumulates. */
const JOBS_PER_WORKER = 500;

interface PooledWorker {
  readonly worker: Worker;
  jobs: number;
}

const idle: PooledWorker[] = [];
/** Workers running a job now. */
let busy = 0;

function spawn(): PooledWorker {
  const worker = new Worker(WORKER_URL, {
    // The host heap of the worker only carries input and output text; QuickJS lives in wasm memory.
    resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    stdout: true,
    stderr: true,
  });
  return { worker, jobs: 0 };
}

/** Keep `w` idle (it never keeps the process alive while idle), or terminate it when the pool is full. */
function release(w: PooledWorker): void {
  w.worker.removeAllListeners();
  if (w.jobs > 0) busy -= 1;
  if (idle.length >= IDLE_WORKERS || w.jobs >= JOBS_PER_WORKER) {
    void w.worker.terminate();
    return;
  }
  w.worker.unref();
  const drop = (): void => {
    const at = idle.indexOf(w);
    if (at >= 0) idle.splice(at, 1);
  };
  w.worker.once('error', drop);
  w.worker.once('exit', drop);
  idle.push(w);
}

/** Start workers until IDLE_WORKERS are idle or busy (busy ones come back when their job ends). */
function refill(): void {
  while (idle.length + busy < IDLE_WORKERS) release(spawn());
}

/** A started worker for one job (an idle one when there is one); the pool refills in the background. */
function take(): PooledWorker {
  const w = idle.shift() ?? spawn();
  w.worker.removeAllListeners();
  w.worker.ref();
  w.jobs += 1;
  busy += 1;
  setImmediate(refill);
  return w;
}

/** Terminate the idle workers (tests and shutdown); later code steps start new ones. */
export async function closeSandboxWorkers(): Promise<void> {
  const all = idle.splice(0);
  await Promise.all(all.map((w) => w.worker.terminate()));
}

function sandboxError(code: SandboxErrorCode, rule: string): CustosError {
  return new CustosError(code, `Code step failed: ${rule}`, { details: { rule } });
}

function aborted(): CustosError {
  return new CustosError('ENGINE_STEP_ABORTED', 'Code step was cancelled');
}

function fromReply(reply: SandboxReply): JsonValue {
  if (reply.ok) return JSON.parse(reply.output) as JsonValue;
  const code: ErrorCode = Object.hasOwn(ERROR_CODES, reply.code)
    ? (reply.code as ErrorCode)
    : 'ENGINE_SANDBOX_ERROR';
  throw new CustosError(code, `Code step failed: ${reply.rule}`, {
    details: { rule: reply.rule, ...(reply.errorName === undefined ? {} : { errorName: reply.errorName }) },
  });
}

/**
 * Execute `main(input, helpers)` of `source` in a fresh QuickJS sandbox (a WebAssembly module used
 * by this job only, in a sandbox worker) and return its JSON result.
 * Throws ENGINE_SANDBOX_TIMEOUT, ENGINE_SANDBOX_MEMORY, ENGINE_SANDBOX_ERROR,
 * ENGINE_SANDBOX_OUTPUT_INVALID, ENGINE_STEP_ABORTED.
 */
export function runSandbox(options: SandboxOptions): Promise<JsonValue> {
  const signal = options.signal;
  if (signal?.aborted === true) return Promise.reject(aborted());
  const input = JSON.stringify(options.input);
  if (input.length > SANDBOX_DEFAULTS.maxInputChars) {
    return Promise.reject(
      sandboxError('ENGINE_SANDBOX_ERROR', `input larger than ${SANDBOX_DEFAULTS.maxInputChars} characters`),
    );
  }
  const job: QuickJsJob = {
    source: options.source,
    input,
    helpers: options.helpers ?? [],
    memoryBytes: options.memoryBytes ?? SANDBOX_DEFAULTS.memoryBytes,
    timeoutMs: options.timeoutMs ?? SANDBOX_DEFAULTS.timeoutMs,
  };
  return new Promise<JsonValue>((resolve, reject) => {
    const pooled = take();
    const worker = pooled.worker;
    worker.postMessage(job);
    let settled = false;
    const finish = (fn: () => void, reusable = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (reusable) release(pooled);
      else {
        busy -= 1;
        worker.removeAllListeners();
        void worker.terminate();
      }
      fn();
    };
    const onTimeout = (): void => {
      finish(() => {
        reject(sandboxError('ENGINE_SANDBOX_TIMEOUT', `ran longer than ${job.timeoutMs} ms`));
      });
    };
    let timer = setTimeout(onTimeout, STARTUP_LIMIT_MS);
    const onAbort = (): void => {
      finish(() => {
        reject(aborted());
      });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: SandboxMessage) => {
      if ('started' in message) {
        clearTimeout(timer);
        timer = setTimeout(onTimeout, job.timeoutMs + TERMINATE_MARGIN_MS);
        return;
      }
      const reply: SandboxReply = message;
      finish(() => {
        try {
          resolve(fromReply(reply));
        } catch (err) {
          reject(err instanceof Error ? err : new Error('sandbox reply'));
        }
      }, reply.reusable);
    });
    worker.once('error', (err: Error & { code?: string }) => {
      finish(() => {
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? sandboxError('ENGINE_SANDBOX_MEMORY', 'memory limit exceeded')
            : sandboxError('ENGINE_SANDBOX_ERROR', 'sandbox worker failed'),
        );
      });
    });
    worker.once('exit', () => {
      finish(() => {
        reject(sandboxError('ENGINE_SANDBOX_ERROR', 'sandbox worker exited without a result'));
      });
    });
  });
}
