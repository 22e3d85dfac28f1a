// Entry point of a sandbox worker thread: runs one QuickJS job from workerData and posts either the
// JSON text of the result or a typed error (code and rule only), then exits.
import { parentPort, workerData } from 'node:worker_threads';
import { runQuickJs, SandboxFailure, type QuickJsJob } from './quickjs.ts';

/** What the worker posts: `started` once it is about to run user code, then one result. */
export type SandboxMessage = { readonly started: true } | SandboxReply;

export type SandboxReply =
  | { readonly ok: true; readonly output: string }
  | { readonly ok: false; readonly code: string; readonly rule: string; readonly errorName?: string };

async function main(): Promise<void> {
  const job = workerData as QuickJsJob;
  let reply: SandboxReply;
  parentPort?.postMessage({ started: true } satisfies SandboxMessage);
  try {
    reply = { ok: true, output: await runQuickJs(job) };
  } catch (err) {
    if (err instanceof SandboxFailure) {
      reply = {
        ok: false,
        code: err.code,
        rule: err.rule,
        ...(err.errorName === undefined ? {} : { errorName: err.errorName }),
      };
    } else {
      reply = { ok: false, code: 'ENGINE_SANDBOX_ERROR', rule: 'sandbox failure' };
    }
  }
  parentPort?.postMessage(reply satisfies SandboxMessage);
}

await main();
