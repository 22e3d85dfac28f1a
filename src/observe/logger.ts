// The one logger of Custos (pino). Log calls take structured data that passes the redactor, and
// every serialized line is scrubbed of registered secrets once more before it is written.
import { Writable } from 'node:stream';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { redactString, redactValue } from './redact.ts';
import { scrubSecrets } from './scrubber.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Logger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
  debug(msg: string, data?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** A stream that scrubs registered secrets from each line before passing it on. */
function scrubbingStream(target: DestinationStream | NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      target.write(scrubSecrets(text));
      done();
    },
  });
}

function wrap(p: PinoLogger): Logger {
  const call =
    (level: 'info' | 'warn' | 'error' | 'debug') => (msg: string, data?: Record<string, unknown>) => {
      if (!p.isLevelEnabled(level)) return;
      const safe = redactString(msg);
      if (data === undefined) p[level](safe);
      else p[level](redactValue(data) as Record<string, unknown>, safe);
    };
  return {
    info: call('info'),
    warn: call('warn'),
    error: call('error'),
    debug: call('debug'),
    child: (bindings) => wrap(p.child(redactValue(bindings) as Record<string, unknown>)),
  };
}

/** Create the logger writing JSON lines to `destination` (default stderr). */
export function createLogger(
  options: { level?: LogLevel; destination?: NodeJS.WritableStream } = {},
): Logger {
  const destination = scrubbingStream(options.destination ?? process.stderr);
  return wrap(pino({ level: options.level ?? 'info', base: { service: 'custos' } }, destination));
}
