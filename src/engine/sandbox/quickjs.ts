// The QuickJS side of a code step, run inside a sandbox worker: a fresh WebAssembly module, runtime
// and context; memory, stack and time limits; no timers, network, filesystem, process or module
// loading; JSON in, JSON out, and the allowlisted helpers. Failures map to typed ENGINE_SANDBOX_* errors.
import {
  newQuickJSWASMModule,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import type { HelperModule } from '../definition/types.ts';
import { HELPERS, MAX_HELPER_INPUT_CHARS } from './helpers.ts';

export interface QuickJsJob {
  /** Script defining `function main(input, helpers)`. */
  readonly source: string;
  /** The input as JSON text. */
  readonly input: string;
  readonly helpers: readonly HelperModule[];
  readonly memoryBytes: number;
  readonly timeoutMs: number;
}

export const SANDBOX_DEFAULTS = {
  memoryBytes: 32 * 1024 * 1024,
  timeoutMs: 1_000,
  maxStackBytes: 256 * 1024,
  maxInputChars: 1024 * 1024,
  maxOutputChars: 1024 * 1024,
} as const;

type Interrupt = 'time' | undefined;

export type SandboxErrorCode =
  | 'ENGINE_SANDBOX_TIMEOUT'
  | 'ENGINE_SANDBOX_MEMORY'
  | 'ENGINE_SANDBOX_ERROR'
  | 'ENGINE_SANDBOX_OUTPUT_INVALID';

/** A typed sandbox failure; the worker posts its code and rule, the host turns it into a CustosError. */
export class SandboxFailure extends Error {
  readonly code: SandboxErrorCode;
  readonly rule: string;
  readonly errorName: string | undefined;

  constructor(code: SandboxErrorCode, rule: string, errorName?: string) {
    super(rule);
    this.name = 'SandboxFailure';
    this.code = code;
    this.rule = rule;
    this.errorName = errorName;
  }
}

function sandboxError(code: SandboxErrorCode, rule: string, errorName?: string): SandboxFailure {
  return new SandboxFailure(code, rule, errorName);
}

/** Classify an exception thrown inside the VM by its name and message (the message is never echoed). */
function mapVmError(
  vm: QuickJSContext,
  handle: QuickJSHandle,
  interrupted: Interrupt,
  timeoutMs: number,
): SandboxFailure {
  if (interrupted === 'time')
    return sandboxError('ENGINE_SANDBOX_TIMEOUT', `ran longer than ${timeoutMs} ms`);
  const dumped: unknown = vm.dump(handle);
  const name =
    typeof dumped === 'object' && dumped !== null && typeof (dumped as { name?: unknown }).name === 'string'
      ? (dumped as { name: string }).name
      : 'Error';
  const message =
    typeof dumped === 'object' &&
    dumped !== null &&
    typeof (dumped as { message?: unknown }).message === 'string'
      ? (dumped as { message: string }).message
      : '';
  if (/out of memory/i.test(message)) return sandboxError('ENGINE_SANDBOX_MEMORY', 'memory limit exceeded');
  if (/stack overflow|call stack/i.test(message))
    return sandboxError('ENGINE_SANDBOX_MEMORY', 'stack size limit exceeded');
  if (/string too long|invalid (string|array) length/i.test(message)) {
    return sandboxError('ENGINE_SANDBOX_MEMORY', 'string or array size limit exceeded');
  }
  const safeName = /^[A-Za-z]{1,32}$/.test(name) ? name : 'Error';
  return sandboxError('ENGINE_SANDBOX_ERROR', `code threw ${safeName}`, safeName);
}

function injectHelpers(vm: QuickJSContext, modules: readonly HelperModule[]): QuickJSHandle {
  const root = vm.newObject();
  for (const name of modules) {
    const mod = vm.newObject();
    for (const [fnName, fn] of Object.entries(HELPERS[name])) {
      const handle = vm.newFunction(fnName, (...args) => {
        const values = args.map((a) => {
          const t = vm.typeof(a);
          if (t === 'number') return vm.getNumber(a);
          if (t !== 'string') throw new TypeError('helpers take strings and numbers only');
          const s = vm.getString(a);
          if (s.length > MAX_HELPER_INPUT_CHARS) throw new RangeError('helper input too long');
          return s;
        });
        return vm.newString(fn(...values));
      });
      vm.setProp(mod, fnName, handle);
      handle.dispose();
    }
    vm.setProp(root, name, mod);
    mod.dispose();
  }
  return root;
}

/** A fresh QuickJS WebAssembly module, for one job. */
export function loadQuickJsModule(): Promise<QuickJSWASMModule> {
  return newQuickJSWASMModule();
}

/**
 * Execute `main(input, helpers)` and return its result as JSON text; `outcome.clean` tells whether
 * the run ended with everything freed (else the worker must not be reused). Throws ENGINE_SANDBOX_TIMEOUT,
 * ENGINE_SANDBOX_MEMORY, ENGINE_SANDBOX_ERROR, ENGINE_SANDBOX_OUTPUT_INVALID.
 */
export async function runQuickJs(
  job: QuickJsJob,
  loaded?: Promise<QuickJSWASMModule>,
  outcome: { clean: boolean } = { clean: false },
): Promise<string> {
  const { timeoutMs } = job;
  // A module of its own (a WebAssembly instance with its own linear memory, loaded before the job
  // arrived, or now): no other job ever runs in it, and it is dropped after this one.
  const module: QuickJSWASMModule = await (loaded ?? newQuickJSWASMModule());
  const runtime = module.newRuntime();
  runtime.setMemoryLimit(job.memoryBytes);
  runtime.setMaxStackSize(SANDBOX_DEFAULTS.maxStackBytes);
  let interrupted: Interrupt;
  const deadline = Date.now() + timeoutMs;
  runtime.setInterruptHandler(() => {
    if (Date.now() > deadline) interrupted = 'time';
    return interrupted !== undefined;
  });
  const vm = runtime.newContext();
  // Set when the runtime may hold state QuickJS cannot free (pending async work, an unwound native
  // stack): then nothing is disposed and the module is dropped with the worker instead.
  let dirty = false;
  const handles: QuickJSHandle[] = [];
  const keep = (h: QuickJSHandle): QuickJSHandle => {
    handles.push(h);
    return h;
  };
  try {
    // Take JSON.parse/stringify before user code runs, so redefining them changes nothing for us.
    const json = keep(vm.getProp(vm.global, 'JSON'));
    const parse = keep(vm.getProp(json, 'parse'));
    const stringify = keep(vm.getProp(json, 'stringify'));
    const parsed = vm.callFunction(parse, vm.undefined, keep(vm.newString(job.input)));
    if (parsed.error !== undefined) {
      keep(parsed.error);
      throw mapVmError(vm, parsed.error, interrupted, timeoutMs);
    }
    const input = keep(parsed.value);
    const helpers = keep(injectHelpers(vm, job.helpers));

    const evaluated = vm.evalCode(job.source, 'code-step.js', { type: 'global', strict: true });
    if (evaluated.error !== undefined) {
      keep(evaluated.error);
      throw mapVmError(vm, evaluated.error, interrupted, timeoutMs);
    }
    keep(evaluated.value);
    const main = keep(vm.getProp(vm.global, 'main'));
    if (vm.typeof(main) !== 'function') {
      throw sandboxError('ENGINE_SANDBOX_ERROR', 'the source must define function main(input, helpers)');
    }
    const called = vm.callFunction(main, vm.undefined, input, helpers);
    if (called.error !== undefined) {
      keep(called.error);
      throw mapVmError(vm, called.error, interrupted, timeoutMs);
    }
    let result = keep(called.value);
    const state = vm.getPromiseState(result);
    if (state.type !== 'fulfilled' || state.notAPromise !== true) {
      if (state.type === 'fulfilled') keep(state.value);
      if (state.type === 'rejected') keep(state.error);
      // An async main: settle its jobs (there are no timers, so nothing can wait on the outside).
      const jobs = runtime.executePendingJobs(10_000);
      if (jobs.error !== undefined) {
        keep(jobs.error);
        throw mapVmError(vm, jobs.error, interrupted, timeoutMs);
      }
      const settled = vm.getPromiseState(result);
      if (settled.type === 'pending') {
        dirty = true;
        throw sandboxError('ENGINE_SANDBOX_OUTPUT_INVALID', 'main returned a promise that never settled');
      }
      if (settled.type === 'rejected') {
        keep(settled.error);
        throw mapVmError(vm, settled.error, interrupted, timeoutMs);
      }
      result = keep(settled.value);
    }
    const text = vm.callFunction(stringify, vm.undefined, result);
    if (text.error !== undefined) {
      keep(text.error);
      const mapped = mapVmError(vm, text.error, interrupted, timeoutMs);
      throw mapped.code === 'ENGINE_SANDBOX_ERROR'
        ? sandboxError('ENGINE_SANDBOX_OUTPUT_INVALID', 'result is not JSON-serializable')
        : mapped;
    }
    const textHandle = keep(text.value);
    if (vm.typeof(textHandle) !== 'string')
      throw sandboxError('ENGINE_SANDBOX_OUTPUT_INVALID', 'main must return a JSON value');
    const length = vm.getNumber(keep(vm.getProp(textHandle, 'length')));
    if (length > SANDBOX_DEFAULTS.maxOutputChars) {
      throw sandboxError(
        'ENGINE_SANDBOX_OUTPUT_INVALID',
        `result larger than ${SANDBOX_DEFAULTS.maxOutputChars} characters`,
      );
    }
    return vm.getString(textHandle);
  } catch (err) {
    if (err instanceof SandboxFailure) throw err;
    dirty = true;
    // Host-side failures (a native stack overflow inside WebAssembly, allocation failures) are
    // resource exhaustion; the module is discarded with this worker.
    if (interrupted === 'time')
      throw sandboxError('ENGINE_SANDBOX_TIMEOUT', `ran longer than ${timeoutMs} ms`);
    throw sandboxError(
      'ENGINE_SANDBOX_MEMORY',
      err instanceof RangeError ? 'stack size limit exceeded' : 'sandbox resources exhausted',
    );
  } finally {
    if (!dirty) {
      try {
        for (const h of handles.reverse()) if (h.alive) h.dispose();
        vm.dispose();
        runtime.dispose();
        // Everything was freed: the worker may take another job (in another fresh module).
        outcome.clean = true;
      } catch {
        // Nothing to recover: the module is dropped with the worker.
      }
    }
  }
}
