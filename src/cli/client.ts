// The HTTP client of commands that act through the API (CUSTOS_URL and CUSTOS_TOKEN), so they are
// authenticated, authorized and audited like any other caller. Problems come back as CustosErrors
// with the server's stable code; the token is registered with the scrubber and never printed.
import { CustosError, ERROR_CODES, type ErrorCode } from '../errors/index.ts';
import { registerSecret } from '../observe/index.ts';
import type { CliIo } from './context.ts';

export interface ApiClient {
  request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

const TIMEOUT_MS = 30_000;

function required(io: CliIo, name: 'CUSTOS_URL' | 'CUSTOS_TOKEN'): string {
  const value = io.env[name];
  if (value === undefined || value === '') {
    throw new CustosError('INPUT_INVALID', `${name} must be set for this command`, {
      details: {
        field: name,
        rule:
          name === 'CUSTOS_URL'
            ? 'URL of the Custos API, e.g. http://127.0.0.1:8080'
            : 'an API token (cus_…)',
      },
    });
  }
  return value;
}

function isCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** A client for the API at CUSTOS_URL with CUSTOS_TOKEN. Throws INPUT_INVALID when either is missing. */
export function apiClient(io: CliIo): ApiClient {
  const base = required(io, 'CUSTOS_URL').replace(/\/$/, '');
  const token = required(io, 'CUSTOS_TOKEN');
  registerSecret(token);
  let origin: URL;
  try {
    origin = new URL(base);
  } catch (cause) {
    throw new CustosError('INPUT_INVALID', 'CUSTOS_URL is not a URL', {
      cause,
      details: { field: 'CUSTOS_URL', rule: 'http(s) URL' },
    });
  }
  return {
    async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(new URL(path, `${origin.href.replace(/\/$/, '')}/`), {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json, application/problem+json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
          redirect: 'error',
        });
      } catch (cause) {
        throw new CustosError('API_UNREACHABLE', 'The Custos API cannot be reached', {
          cause,
          details: { field: 'CUSTOS_URL', rule: 'reachable Custos API' },
        });
      }
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch (cause) {
        throw new CustosError('API_RESPONSE_INVALID', 'The API answered with something that is not JSON', {
          cause,
          details: { field: 'response', rule: 'JSON', status: res.status },
        });
      }
      if (res.ok) return parsed as T;
      const p = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
      const code = isCode(p.code) ? p.code : 'API_RESPONSE_INVALID';
      throw new CustosError(code, typeof p.detail === 'string' ? p.detail : `HTTP ${res.status}`, {
        details: {
          ...(typeof p.field === 'string' ? { field: p.field } : {}),
          ...(typeof p.rule === 'string' ? { rule: p.rule } : {}),
          status: res.status,
        },
      });
    },
  };
}
