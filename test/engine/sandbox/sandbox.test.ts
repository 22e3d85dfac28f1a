import { describe, expect, it } from 'vitest';
import { isCustosError } from '../../../src/errors/index.ts';
import { runSandbox, type SandboxOptions } from '../../../src/engine/sandbox/index.ts';

const MB = 1024 * 1024;

function run(source: string, more: Partial<SandboxOptions> = {}) {
  return runSandbox({
    source,
    input: { x: 41, email: 'ada@example.com' },
    timeoutMs: 400,
    memoryBytes: 16 * MB,
    ...more,
  });
}

async function failure(
  source: string,
  more: Partial<SandboxOptions> = {},
): Promise<{ code: string; text: string }> {
  try {
    await run(source, more);
  } catch (err) {
    if (isCustosError(err))
      return { code: err.code, text: JSON.stringify({ m: err.message, d: err.details }) };
    throw err;
  }
  throw new Error('expected the sandbox to fail');
}

describe('QuickJS sandbox: normal operation', () => {
  it('runs main(input, helpers) and returns JSON, with only the helpers asked for', async () => {
    const out = await run(
      `function main(input, helpers) {
         return { y: input.x + 1, masked: helpers.mask.email(input.email), last: helpers.mask.text('4111111111111111'),
                  hash: helpers.hash.sha256('abc'), text: typeof helpers.text };
       }`,
      { helpers: ['mask', 'hash'] },
    );
    expect(out).toEqual({
      y: 42,
      masked: 'a***@example.com',
      last: '************1111',
      hash: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      text: 'undefined',
    });
  });

  it('settles an async main', async () => {
    expect(await run('async function main(i) { const v = await Promise.resolve(i.x); return v * 2 }')).toBe(
      82,
    );
  });
});

describe('QuickJS sandbox: escapes are contained with typed errors', () => {
  it('has no process, network, timers, filesystem or module loader', async () => {
    const probe = await run(`function main() {
      const F = (function(){}).constructor.constructor;
      return ['process', 'require', 'fetch', 'setTimeout', 'setInterval', 'queueMicrotask', 'XMLHttpRequest', 'WebAssembly', 'std', 'os', 'Deno', 'Bun', 'console']
        .map((n) => n + ':' + typeof globalThis[n] + ':' + F('return typeof ' + n)());
    }`);
    for (const entry of probe as string[]) expect(entry).toMatch(/:undefined:undefined$/);
    expect(
      (await failure('function main() { return require("fs").readFileSync("/etc/passwd", "utf8") }')).code,
    ).toBe('ENGINE_SANDBOX_ERROR');
    expect((await failure('import fs from "fs"; function main() { return 1 }')).code).toBe(
      'ENGINE_SANDBOX_ERROR',
    );
    expect((await failure('async function main() { return (await import("fs")).readFileSync }')).code).toBe(
      'ENGINE_SANDBOX_ERROR',
    );
  });

  it('keeps prototype tricks inside the sandbox', async () => {
    const out = await run(`function main() {
      Object.prototype.polluted = 'yes';
      Array.prototype.push = null;
      JSON.stringify = () => '"hijacked"';
      return { ok: true };
    }`);
    expect(out).toEqual({ ok: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(
      await run(
        'function main() { return (function(){}).constructor.constructor("return Object.keys(this).sort().join()")().includes("main") }',
      ),
    ).toBe(true);
  });

  it('stops infinite loops, even ones that swallow exceptions', async () => {
    expect((await failure('function main() { while (true) {} }')).code).toBe('ENGINE_SANDBOX_TIMEOUT');
    expect((await failure('function main() { for (;;) { try { for (;;) {} } catch (e) {} } }')).code).toBe(
      'ENGINE_SANDBOX_TIMEOUT',
    );
    expect((await failure('function main() { return /^(a+)+$/.test("a".repeat(40) + "b") }')).code).toBe(
      'ENGINE_SANDBOX_TIMEOUT',
    );
  });

  it('stops memory bombs, deep recursion and huge strings', async () => {
    expect(['ENGINE_SANDBOX_MEMORY', 'ENGINE_SANDBOX_TIMEOUT']).toContain(
      (await failure('function main() { const a = []; for (;;) a.push({ n: a.length, s: "x" + a.length }) }'))
        .code,
    );
    expect((await failure('function main() { function f() { return f() + 1 } return f() }')).code).toBe(
      'ENGINE_SANDBOX_MEMORY',
    );
    expect((await failure('function main() { let s = "x"; for (;;) s += s }')).code).toBe(
      'ENGINE_SANDBOX_MEMORY',
    );
    expect((await failure('function main() { return "a".repeat(2 ** 29) }')).code).toBe(
      'ENGINE_SANDBOX_MEMORY',
    );
  });

  it('rejects results that are not JSON or too large', async () => {
    expect((await failure('function main() { const a = {}; a.self = a; return a }')).code).toBe(
      'ENGINE_SANDBOX_OUTPUT_INVALID',
    );
    expect((await failure('function main() { return undefined }')).code).toBe(
      'ENGINE_SANDBOX_OUTPUT_INVALID',
    );
    expect((await failure('function main() { return 10n }')).code).toBe('ENGINE_SANDBOX_OUTPUT_INVALID');
    expect(
      (await failure('function main() { return "x".repeat(2 * 1024 * 1024) }', { memoryBytes: 32 * MB }))
        .code,
    ).toBe('ENGINE_SANDBOX_OUTPUT_INVALID');
    expect((await failure('async function main() { return new Promise(() => {}) }')).code).toBe(
      'ENGINE_SANDBOX_OUTPUT_INVALID',
    );
  });

  it('reports user errors by name only, never their message or the input', async () => {
    const f = await failure('function main(input) { throw new TypeError("bad " + input.email) }');
    expect(f.code).toBe('ENGINE_SANDBOX_ERROR');
    expect(f.text).toContain('TypeError');
    expect(f.text).not.toContain('ada@example.com');
    expect((await failure('const notMain = 1')).code).toBe('ENGINE_SANDBOX_ERROR');
    expect((await failure('function main( {')).code).toBe('ENGINE_SANDBOX_ERROR');
  });

  it('checks helper arguments', async () => {
    expect(
      (await failure('function main(i, h) { return h.hash.sha256({}) }', { helpers: ['hash'] })).code,
    ).toBe('ENGINE_SANDBOX_ERROR');
    expect(
      (
        await failure('function main(i, h) { return h.hash.sha256("x".repeat(100000)) }', {
          helpers: ['hash'],
        })
      ).code,
    ).toBe('ENGINE_SANDBOX_ERROR');
  });

  it('honours cancellation, before and during a run', async () => {
    expect((await failure('function main() { return 1 }', { signal: AbortSignal.abort() })).code).toBe(
      'ENGINE_STEP_ABORTED',
    );
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 50);
    expect(
      (await failure('function main() { for (;;) {} }', { timeoutMs: 5_000, signal: controller.signal }))
        .code,
    ).toBe('ENGINE_STEP_ABORTED');
  });

  it('refuses oversized input', async () => {
    expect((await failure('function main() { return 1 }', { input: 'x'.repeat(2 * MB) })).code).toBe(
      'ENGINE_SANDBOX_ERROR',
    );
  });
});

describe('QuickJS sandbox: warm workers', () => {
  it('never lets one job see what an earlier one left behind, even after a failure', async () => {
    const leave = `function main() {
      globalThis.leftover = 'from job 1';
      Object.prototype.polluted = true;
      JSON.stringify = function () { return '"hijacked"'; };
      return 1;
    }`;
    const look = `function main() {
      return { leftover: typeof globalThis.leftover, polluted: typeof ({}).polluted, json: JSON.stringify({ a: 1 }) };
    }`;
    // More jobs than warm workers, run back to back and side by side, interleaved with crashes.
    for (let round = 0; round < 3; round++) {
      expect(await run(leave)).toBe(1);
      // A generous time limit, so the memory limit is what stops it even on a loaded machine.
      const bomb = 'function main() { const a = []; for (;;) a.push(new Array(1e5)); }';
      expect((await failure(bomb, { timeoutMs: 10_000 })).code).toBe('ENGINE_SANDBOX_MEMORY');
      const seen = await Promise.all([run(look), run(look), run(look)]);
      for (const s of seen)
        expect(s).toEqual({ leftover: 'undefined', polluted: 'undefined', json: '{"a":1}' });
    }
  });
});
