// A running installation for API tests: the app with cheap password hashing and a controllable
// clock, the bootstrap admin token, helpers to create users and sign in as a browser would, and a
// record of every response so a suite can scan them all for values that must never appear.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { initInstallation, openHost, type Host } from '../../src/host/index.ts';
import { base32Decode, totp, type Role } from '../../src/iam/index.ts';
import { buildApp, type AppOptions } from '../../src/server/index.ts';
import { tempDataDir } from '../helpers/cli.ts';

export const CHEAP_PASSWORDS = { memoryKiB: 1024, passes: 1, parallelism: 1 };

export class FakeClock {
  offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly text: string;
}

export interface Harness {
  readonly host: Host;
  readonly app: FastifyInstance;
  readonly admin: string;
  readonly clock: FakeClock;
  readonly responses: Recorded[];
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** Call with the bootstrap admin token. */
  asAdmin(method: InjectOptions['method'], url: string, payload?: unknown): Promise<LightMyRequestResponse>;
  createUser(
    email: string,
    password: string | undefined,
    grants?: readonly [string, Role][],
  ): Promise<string>;
  browser(): Browser;
  close(): Promise<void>;
}

export const PASSWORD = 'a long and unusual passphrase';

/** A cookie jar and CSRF token, like a console in a browser tab. */
export class Browser {
  cookie: string | undefined;
  csrf: string | undefined;
  readonly #h: Harness;

  constructor(h: Harness) {
    this.#h = h;
  }

  async call(
    method: InjectOptions['method'],
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) {
    const res = await this.#h.inject({
      method,
      url,
      headers: {
        ...(this.cookie === undefined ? {} : { cookie: `__Host-custos_session=${this.cookie}` }),
        ...(this.csrf === undefined ? {} : { 'x-csrf-token': this.csrf }),
        ...headers,
      },
      ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }),
    });
    this.take(res);
    return res;
  }

  /** Keep the session cookie and CSRF token a response sets. */
  take(res: LightMyRequestResponse): void {
    const set = res.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set === undefined ? [] : [set]) {
      const m = /^__Host-custos_session=([^;]*)/.exec(c);
      if (m) this.cookie = m[1] === '' ? undefined : m[1];
    }
    const type = res.headers['content-type'];
    if (typeof type === 'string' && type.startsWith('application/json') && res.body.startsWith('{')) {
      const body = res.json<{ csrfToken?: unknown }>();
      if (typeof body.csrfToken === 'string') this.csrf = body.csrfToken;
    }
  }

  async signIn(email: string, password = PASSWORD) {
    return this.call('POST', '/api/v1/auth/login', { email, password });
  }

  /** Sign in, enroll TOTP (when asked to) or verify it, and return the TOTP secret used. */
  async signInWithTotp(email: string, clock: FakeClock, secret?: string): Promise<string> {
    const login = await this.signIn(email);
    const stage = login.json<{ stage: string }>().stage;
    let s = secret;
    if (stage === 'enroll') {
      s = (await this.call('POST', '/api/v1/auth/mfa/totp/enroll')).json<{ secret: string }>().secret;
      const res = await this.call('POST', '/api/v1/auth/mfa/totp/confirm', { code: codeFor(s, clock) });
      if (res.statusCode !== 200) throw new Error(`confirm failed: ${res.body}`);
    } else if (stage === 'mfa') {
      if (s === undefined) throw new Error('a TOTP secret is needed');
      const res = await this.call('POST', '/api/v1/auth/mfa/totp/verify', { code: codeFor(s, clock) });
      if (res.statusCode !== 200) throw new Error(`verify failed: ${res.body}`);
    }
    return s ?? '';
  }
}

export function codeFor(secret: string, clock: FakeClock, skewSeconds = 0): string {
  return totp(
    base32Decode(secret) ?? Buffer.alloc(0),
    Math.floor(clock.now().getTime() / 1000) + skewSeconds,
  );
}

export async function startHarness(options: Partial<Omit<AppOptions, 'host'>> = {}): Promise<Harness> {
  const dataDir = tempDataDir();
  const { adminToken } = await initInstallation({ dataDir });
  const host = await openHost({ dataDir, env: {} });
  const clock = new FakeClock();
  const app = await buildApp({
    host,
    expiryIntervalMs: 0,
    ...options,
    iam: {
      clock: clock.now,
      publicUrl: 'http://localhost:8080',
      ...options.iam,
      settings: { password: CHEAP_PASSWORDS, ...options.iam?.settings },
    },
  });
  const responses: Recorded[] = [];
  const inject = async (opts: InjectOptions) => {
    const res = await app.inject(opts);
    responses.push({
      method: String(opts.method ?? 'GET'),
      url: typeof opts.url === 'string' ? opts.url : JSON.stringify(opts.url),
      status: res.statusCode,
      text: `${JSON.stringify(res.headers)}\n${res.body}`,
    });
    return res;
  };
  const h: Harness = {
    host,
    app,
    admin: adminToken,
    clock,
    responses,
    inject,
    asAdmin: (method, url, payload) =>
      inject({
        method,
        url,
        headers: { authorization: `Bearer ${adminToken}` },
        ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }),
      }),
    createUser: async (email, password, grants = []) => {
      const res = await h.asAdmin('POST', '/api/v1/users', {
        email,
        ...(password === undefined ? {} : { password }),
      });
      if (res.statusCode !== 201) throw new Error(`create user failed: ${res.body}`);
      const id = res.json<{ id: string }>().id;
      for (const [workspace, role] of grants) {
        const g = await h.asAdmin('POST', `/api/v1/workspaces/${workspace}/grants`, { userId: id, role });
        if (g.statusCode !== 201) throw new Error(`grant failed: ${g.body}`);
      }
      return id;
    },
    browser: () => new Browser(h),
    close: async () => {
      await app.close();
      await host.close();
      rmSync(dirname(dataDir), { recursive: true, force: true });
    },
  };
  return h;
}

/**
 * Values found where they must not be: `never` values in any recorded response, `once` values
 * (tokens, session cookies, TOTP secrets: shown to their owner at issue) in more than one.
 */
export function leaks(
  responses: readonly Recorded[],
  never: readonly string[],
  once: readonly string[] = [],
): string[] {
  const out: string[] = [];
  for (const s of never.filter((v) => v.length > 0)) {
    for (const r of responses) if (r.text.includes(s)) out.push(`${r.method} ${r.url} → ${s.slice(0, 6)}…`);
  }
  for (const s of once.filter((v) => v.length > 0)) {
    const seen = responses.filter((r) => r.text.includes(s));
    if (seen.length > 1)
      out.push(
        `${seen.map((r) => `${r.method} ${r.url}`).join(', ')} → ${s.slice(0, 6)}… (issued once, seen ${seen.length}×)`,
      );
  }
  return out;
}

export interface LoggedEvent {
  readonly action: string;
  readonly outcome: string;
  readonly actor: { kind: string; id: string };
  readonly resource: { kind: string; id: string };
  readonly correlationId?: string;
  readonly details?: Record<string, unknown>;
}

/** The events of a ledger, oldest first. */
export async function ledgerEvents(host: Host, ledger: string): Promise<LoggedEvent[]> {
  const ids = await host.ledgers.ids();
  if (!ids.includes(ledger)) return [];
  const size = await host.ledgers.store.size(ledger);
  const entries = await host.ledgers.store.entries(ledger, 0, size);
  return entries.map((e) => JSON.parse(e.toString('utf8')) as LoggedEvent);
}

/** A value for each path parameter of the API, well formed for its pattern. */
const SAMPLE_PATH_PARAMS: Readonly<Record<string, string>> = {
  workspace: 'default',
  ledger: 'default',
  userId: 'usr_0123456789abcdef',
  grantId: 'grt_0123456789abcdef',
  elevationId: 'elv_0123456789abcdef',
  tokenId: '0123456789abcdef',
  name: 'API_KEY',
  provider: 'idp',
  runId: '00000000-0000-4000-8000-000000000000',
  workflow: 'intake',
  type: 'employee',
  id: 'e-1001',
  sha256: 'a'.repeat(64),
};

/** An OpenAPI path (`/x/{param}`, a trailing `*` for a tile path) with sample values filled in. */
export function concretePath(path: string): string {
  return path
    .replace(/\{([A-Za-z0-9_]+)\}/g, (_m, p: string) => SAMPLE_PATH_PARAMS[p] ?? 'x')
    .replace(/\*$/, '0/000');
}
