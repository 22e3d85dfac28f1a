// Entry point of a sandbox worker thread. It starts warm (a QuickJS WebAssembly module is loaded
// before any job exists) and runs jobs one at a time, each in a module of its own: a fresh
// WebAssembly instance with its own linear memory, dropped after the job. It posts `started` right
// before user code runs, then the JSON text of the result or a typed error (code and rule only),
// and whether the job ended cleanly; the parent terminates a worker after any job that did not.
import { parentPort } from 'node:worker_threads';
import type { QuickJSWASMModule } from 'quickjs-emscripten';
import { loadQuickJsModule, runQuickJs, SandboxFailure, type QuickJsJob } from './quickjs.ts';

/** What the worker posts: `started` once it is about to run user code, then one result. */
export type SandboxMessage = { readonly started: true } | SandboxReply;

export type SandboxReply = (
  | { readonly ok: true; readonly output: string }
  | { readonly ok: false; readonly code: string; readonly rule: string; readonly errorName?: string }
) & {
  /** The job freed everything it used: the worker may take another. */
  readonly reusable: boolean;
};

function preload(): Promise<QuickJSWASMModule> {
  const loading = loadQuickJsModule();
  // An unhandled rejection would end the worker; a failed load is reported when a job runs.
  loading.catch(() => undefined);
  return loading;
}

let next = preload();

async function run(job: QuickJsJob): Promise<SandboxReply> {
  const loaded = next;
  next = preload();
  const outcome = { clean: false };
  parentPort?.postMessage({ started: true } satisfies SandboxMessage);
  try {
    const output = await runQuickJs(job, loaded, outcome);
    return { ok: true, output, reusable: outcome.clean };
  } catch (err) {
    if (err instanceof SandboxFailure) {
      return {
        ok: false,
        code: err.code,
        rule: err.rule,
        ...(err.errorName === undefined ? {} : { errorName: err.errorName }),
        reusable: outcome.clean,
      };
    }
    return { ok: false, code: 'ENGINE_SANDBOX_ERROR', rule: 'sandbox failure', reusable: false };
  }
}

parentPort?.on('message', (job: QuickJsJob) => {
  void run(job).then((reply) => parentPort?.postMessage(reply satisfies SandboxMessage));
});
