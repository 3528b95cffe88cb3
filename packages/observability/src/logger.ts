import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Paths that may carry secrets; pino replaces them before a line is written. */
export const REDACTED_PATHS = [
  'password',
  'token',
  'secret',
  'apiKey',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.apiKey',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-slack-signature"]',
  'headers.authorization',
  'config.databaseUrl',
];

export interface LoggerOptions {
  readonly service: string;
  readonly level: string;
  /** Where lines go; stdout by default (tests pass a stream to read them back). */
  readonly destination?: NodeJS.WritableStream;
}

/** Structured JSON logs, one line per event, with the service name on every line. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination(1),
  );
}
