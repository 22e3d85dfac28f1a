// Child processes for crash tests: `custos` CLI commands run with this Node binary, a stub HTTP
// service that counts calls per Idempotency-Key, polling helpers, and installations on either
// dialect.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { initInstallation, openHost, type Host } from '../../../src/host/index.ts';
import { PG_URL } from '../../helpers/dialects.ts';

const MAIN = join(import.meta.dirname, '../../../src/cli/main.ts');

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves once stdout contains `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  output(): string;
  exited: Promise<number | null>;
}

/** Spawn `custos …args` (Node's own binary, so the child gets Node 24 like the test). */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      resolve(code);
    }),
  );
  return {
    child,
    exited,
    output: () => `${out}\n--- stderr ---\n${err}`,
    waitFor: async (text, timeoutMs = 30_000) => {
      const end = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (Date.now() > end || child.exitCode !== null) {
          throw new Error(`process did not print "${text}":\n${out}\n${err}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

/** Run `custos …args` to completion. */
export async function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string }> {
  const p = spawnCli(args, env);
  const code = await p.exited;
  return { code, out: p.output() };
}

export interface StubService {
  readonly url: string;
  /** Idempotency-Key → number of requests carrying it. */
  readonly calls: Map<string, number>;
  readonly traceparents: string[];
  close(): Promise<void>;
}

/** An HTTP service answering `{ ok: true }` after `delayMs`, counting calls per Idempotency-Key. */
export async function startStub(delayMs: number): Promise<StubService> {
  const calls = new Map<string, number>();
  const traceparents: string[] = [];
  const server: Server = createServer((req, res) => {
    const key = String(req.headers['idempotency-key'] ?? '');
    calls.set(key, (calls.get(key) ?? 0) + 1);
    traceparents.push(String(req.headers.traceparent ?? ''));
    req.resume();
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    traceparents,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

export async function until<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Installation {
  readonly dir: string;
  readonly host: Host;
  cleanup(): Promise<void>;
}

/** A fresh installation on SQLite, or on PostgreSQL in a schema of its own. */
export async function install(dialect: 'sqlite' | 'postgres'): Promise<Installation> {
  const dir = mkdtempSync(join(tmpdir(), 'custos-crash-'));
  let schema: string | undefined;
  let databaseUrl: string | undefined;
  if (dialect === 'postgres') {
    schema = `t_${randomBytes(6).toString('hex')}`;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`create schema ${schema}`);
    await c.end();
    databaseUrl = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  }
  await initInstallation({ dataDir: dir, ...(databaseUrl === undefined ? {} : { databaseUrl }) });
  // Quiet: these tests provoke step failures on purpose; the runtime's warnings would only be noise.
  const host = await openHost({ dataDir: dir, env: { CUSTOS_LOG_LEVEL: 'silent' } });
  return {
    dir,
    host,
    cleanup: async () => {
      await host.close();
      rmSync(dir, { recursive: true, force: true });
      if (schema !== undefined) {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`drop schema if exists ${schema} cascade`);
        await c.end();
      }
    },
  };
}
