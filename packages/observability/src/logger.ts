import { REDACTED, isSecretField, redactCredentials } from '@cortexops/contracts';
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Nesting beyond this is cut (pino itself prints five levels). */
const MAX_DEPTH = 12;
const CUT = '[...]';

function isPlainData(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of `value` safe to log, at any depth: the value of every field whose name says it is a secret
 * (`isSecretField`: password, token, secret, apiKey, authorization, cookie, ...) is replaced, every string has the
 * credentials of URLs and connection strings in it hidden (`redactCredentials`), errors become pino's serialised form
 * (type, message, stack, cause, own fields) with the same treatment. Cycles are cut, so is nesting past 12 levels.
 */
export function redactSecrets(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactCredentials(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return CUT;
  seen.add(value);
  try {
    if (value instanceof Error) return redactSecrets(pino.stdSerializers.err(value), depth, new WeakSet());
    if (Array.isArray(value)) return value.map((item: unknown) => redactSecrets(item, depth + 1, seen));
    // Dates, buffers, URLs ...: what JSON would print of them.
    const json = (value as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function' && !isPlainData(value)) return redactSecrets(json.call(value), depth, seen);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = isSecretField(key) && item !== undefined && item !== null && item !== '' ? REDACTED : redactSecrets(item, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

export interface LoggerOptions {
  readonly service: string;
  readonly level: string;
  /** Where lines go; stdout by default (tests pass a stream to read them back). */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * Structured JSON logs, one line per event, with the service name on every line. Everything logged — the merged
 * object, the message and its format arguments, child bindings, errors — passes {@link redactSecrets} first.
 */
export function createLogger(options: LoggerOptions): Logger {
  return redactingChildren(pino(
    {
      level: options.level,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Errors were serialised (and redacted) by the hook below; one given only as a binding is handled here.
      serializers: { err: (value: unknown) => (value instanceof Error ? redactSecrets(value) : value) },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, method) {
          const [first, ...rest] = args as unknown[];
          // pino files a bare Error under `err` with its message: keep that shape.
          const head = first instanceof Error ? [{ err: redactSecrets(first) }, ...(rest.length === 0 ? [redactCredentials(first.message)] : [])] : [redactSecrets(first)];
          const redacted = [...head, ...rest.map((item) => redactSecrets(item))];
          method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination(1),
  ));
}

/** pino formats a child's bindings once, without the root's `formatters.bindings`: redact them on the way in. */
function redactingChildren<L extends Logger<never>>(logger: L): L {
  const child = logger.child.bind(logger);
  const redacting = (bindings: pino.Bindings, childOptions?: pino.ChildLoggerOptions<never>) => redactingChildren(child(redactSecrets(bindings) as pino.Bindings, childOptions));
  logger.child = redacting as unknown as L['child'];
  return logger;
}

/** The logger interface of Slack's SDKs (Bolt, the Web API client), over pino; `L` is their `LogLevel` enum. */
export interface TextLogger<L extends string> {
  debug(...parts: unknown[]): void;
  info(...parts: unknown[]): void;
  warn(...parts: unknown[]): void;
  error(...parts: unknown[]): void;
  setLevel(level: L): void;
  getLevel(): L;
  setName(name: string): void;
}

/**
 * A library's text logger routed through `logger` (and so through its redaction): strings become the message,
 * an error becomes `err`, other values are kept as structured `details` (redacted by field name at any depth, not
 * flattened into the text). The library may report a level; the lines still follow the service's level.
 */
export function textLogger<L extends string>(logger: Logger, levels: { readonly DEBUG: L; readonly INFO: L; readonly WARN: L; readonly ERROR: L }): TextLogger<L> {
  let level = levels.INFO;
  let name: string | undefined;
  const write =
    (method: 'debug' | 'info' | 'warn' | 'error') =>
    (...parts: unknown[]): void => {
      const text = parts.filter((p): p is string => typeof p === 'string');
      const err = parts.find((p): p is Error => p instanceof Error);
      const details = parts.filter((p) => typeof p !== 'string' && p !== err);
      logger[method]({ ...(name === undefined ? {} : { logger: name }), ...(err ? { err } : {}), ...(details.length > 0 ? { details } : {}) }, text.join(' ') || err?.message || '');
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: (next) => {
      name = next;
    },
  };
}
