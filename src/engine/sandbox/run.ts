// Runs a code step in a worker thread of its own: the QuickJS interrupt handler enforces the time
// limit inside the VM, and terminating the worker enforces it (and cancellation) even while a
// native builtin runs. The event loop of the process is never blocked by user code.
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
 * Execute `main(input, helpers)` of `source` in a fresh QuickJS sandbox and return its JSON result.
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
    const worker = new Worker(WORKER_URL, {
      workerData: job,
      // The host heap of the worker only carries input and output text; QuickJS lives in wasm memory.
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
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
      });
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
