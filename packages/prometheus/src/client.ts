import pRetry from 'p-retry';
import { z } from 'zod';
import { PrometheusQueryError, type PrometheusFailureReason } from './errors.js';
import { validateOptions, type PrometheusClientOptions, type ValidatedOptions } from './options.js';
import { PrometheusTransport, type Exchange } from './transport.js';

/**
 * What one instant query gave, classified. Only `value` carries a number a check may compare; every other kind is
 * inconclusive for verification (DESIGN.md, "Verification semantics").
 */
export type InstantSample =
  | { readonly kind: 'value'; readonly value: number }
  | { readonly kind: 'empty' }
  /** NaN, +Inf or -Inf, as Prometheus wrote it. */
  | { readonly kind: 'not-a-number'; readonly raw: string }
  /** More than one series: the query does not single out one object. */
  | { readonly kind: 'multiple'; readonly count: number }
  /**
   * The query failed: after `attempts` attempts (retryable failures), or at once (a bad query, refused credentials,
   * a TLS failure, an unreadable answer); `reason` says which.
   */
  | { readonly kind: 'error'; readonly message: string; readonly attempts: number; readonly reason: PrometheusFailureReason };

/** The narrow interface measuring needs (tests give a fake). */
export interface InstantQuerier {
  instant(query: string, at?: Date): Promise<InstantSample>;
}

/** One series of an instant vector, as the HTTP API writes it. */
export interface Series {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

/** The HTTP API's envelope (https://prometheus.io/docs/prometheus/latest/querying/api/#format-overview). */
const sampleValue = z.tuple([z.number(), z.string()]);
const failureSchema = z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() });
const responseSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sampleValue })) }),
      z.object({ resultType: z.literal('scalar'), result: sampleValue }),
      z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
      z.object({ resultType: z.literal('string'), result: sampleValue }),
    ]),
  }),
  failureSchema,
]);
type QueryData = Extract<z.output<typeof responseSchema>, { status: 'success' }>['data'];
/** The envelope of the other read endpoints (`/api/v1/metadata`, `/api/v1/rules`, ...): `data` as it came. */
const envelopeSchema = z.discriminatedUnion('status', [z.object({ status: z.literal('success'), data: z.unknown() }), failureSchema]);

/** Prometheus error types that another attempt may cure; `bad_data` and `execution` are the query's own fault. */
const RETRYABLE_ERROR_TYPES = new Set(['timeout', 'canceled', 'internal', 'unavailable']);
/** An endpoint under /api/v1 (`metadata`, `rules`, `status/buildinfo`, `label/job2/values`): no `..`, no query. */
const ENDPOINT = /^[a-z_]+(\/[a-zA-Z0-9_]+)*$/;

/** A sample value as Prometheus writes it: a decimal, or `NaN`, `+Inf`, `-Inf`. */
export function classifyValue(raw: string): InstantSample {
  if (raw === 'NaN' || raw === '+Inf' || raw === '-Inf') return { kind: 'not-a-number', raw };
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) return { kind: 'not-a-number', raw };
  return { kind: 'value', value };
}

const notInstant = (resultType: string) => new PrometheusQueryError(`the query gives a ${resultType}, not an instant vector or a scalar`, 'answer');

function classify(data: QueryData): InstantSample {
  switch (data.resultType) {
    case 'scalar':
      return classifyValue(data.result[1]);
    case 'vector': {
      const [first, ...rest] = data.result;
      if (first === undefined) return { kind: 'empty' };
      if (rest.length > 0) return { kind: 'multiple', count: data.result.length };
      return classifyValue(first.value[1]);
    }
    default:
      throw notInstant(data.resultType);
  }
}

type Envelope<T> = { status: 'success'; data: T } | z.output<typeof failureSchema>;

/** The envelope's `data`, or the failure it reports as a `PrometheusQueryError`. */
function unwrap<T>({ status, text }: Exchange, baseUrl: string, schema: z.ZodType<Envelope<T>>): T {
  const transient = status === 429 || status >= 500;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const hint = text.includes('HTTP request to an HTTPS server') ? ' — the server speaks https: use an https URL' : '';
    // A refusal in plain text (a 404 page, Mimir's 422 `too many tenant IDs`) is quoted; a 2xx that is not JSON is odd.
    const body = text.slice(0, 160).trim();
    throw new PrometheusQueryError(`HTTP ${status} from ${baseUrl}: ${status >= 400 ? body : `not JSON (${body})`}${hint}`, transient ? 'server' : 'answer', status);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new PrometheusQueryError(`HTTP ${status} from ${baseUrl}: not a Prometheus API answer (${parsed.error.issues[0]?.message ?? 'invalid'})`, transient ? 'server' : 'answer', status);
  }
  const answer = parsed.data;
  if (answer.status === 'error') {
    throw new PrometheusQueryError(`${answer.errorType}: ${answer.error}`, RETRYABLE_ERROR_TYPES.has(answer.errorType) || transient ? 'server' : 'query', status);
  }
  return answer.data;
}

/**
 * Reads from a Prometheus-compatible HTTP API — Prometheus, Thanos Query, Mimir, Cortex — with its tenant header,
 * bearer or basic credentials and TLS. `instant()` classifies one query's answer and never throws; `vector()` and
 * `get()` (the dashboards and rules tests, tooling) throw a `PrometheusQueryError` with its reason. Every request is
 * retried on network errors, timeouts, 429 and 5xx only.
 */
export class PrometheusClient implements InstantQuerier {
  private constructor(
    private readonly options: ValidatedOptions,
    private readonly transport: PrometheusTransport,
  ) {}

  /**
   * Validates the options (`InvalidPrometheusOptionError` names the first bad one) and reads each credential and TLS
   * file once, so a bad setting fails here, at start. Sends nothing.
   */
  static create(options: PrometheusClientOptions): PrometheusClient {
    const validated = validateOptions(options);
    return new PrometheusClient(validated, new PrometheusTransport(validated));
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** What the client sends, for a start-up log line: URL, tenant, how it authenticates and verifies (no secret). */
  describe(): { baseUrl: string; tenant: string; auth: string; tls: string } {
    const tls = this.options.tls ?? {};
    const parts = [tls.caFile ? `CA ${tls.caFile}` : 'system CAs', tls.certFile ? `client certificate ${tls.certFile}` : '', tls.serverName ? `server name ${tls.serverName}` : ''];
    return {
      baseUrl: this.options.baseUrl,
      tenant: this.options.tenant ?? '(none)',
      auth: this.transport.describeAuth(),
      tls: this.options.baseUrl.startsWith('https:') ? parts.filter((p) => p !== '').join(', ') : 'off (http)',
    };
  }

  /**
   * One instant query (at `at`, or now), classified. Network errors, timeouts, 429 and 5xx are retried up to `retries`
   * times with backoff; a bad query (400 `bad_data`, 422 `execution`), refused credentials (401, 403), a TLS failure,
   * an unreadable credential file and an answer that is not the API's envelope are not.
   */
  async instant(query: string, at?: Date): Promise<InstantSample> {
    const attempts = { count: 0 };
    try {
      return classify(await this.retried(query, attempts, () => this.queryOnce(query, at)));
    } catch (error) {
      const failure = error instanceof PrometheusQueryError ? error : new PrometheusQueryError(String(error), 'answer', undefined, { cause: error });
      this.options.logger?.warn({ query, attempts: attempts.count, reason: failure.reason, error: failure.message }, 'prometheus query failed');
      return { kind: 'error', message: failure.message, attempts: attempts.count, reason: failure.reason };
    }
  }

  /** Every series an instant query returns (a scalar as one series without labels); a failure throws `PrometheusQueryError`. */
  async vector(query: string, at?: Date): Promise<Series[]> {
    const data = await this.retried(query, { count: 0 }, () => this.queryOnce(query, at));
    if (data.resultType === 'vector') return data.result;
    if (data.resultType === 'scalar') return [{ metric: {}, value: data.result }];
    throw notInstant(data.resultType);
  }

  /** The `data` of another read endpoint under /api/v1 (`get('metadata')`, `get('rules', { type: 'alert' })`); a failure throws. */
  async get(endpoint: string, params: Readonly<Record<string, string>> = {}): Promise<unknown> {
    if (!ENDPOINT.test(endpoint)) throw new PrometheusQueryError(`not an endpoint of /api/v1: ${JSON.stringify(endpoint)}`, 'query');
    return this.retried(endpoint, { count: 0 }, async () =>
      unwrap(await this.transport.send('GET', `/api/v1/${endpoint}`, new URLSearchParams({ ...params })), this.options.baseUrl, envelopeSchema),
    );
  }

  /**
   * One attempt, no retry, at `vector(1)`: resolves when the backend answers it with these settings, throws the
   * `PrometheusQueryError` otherwise (its message says why: refused credentials, TLS, unreachable). For health checks.
   */
  async ping(): Promise<void> {
    const sample = classify(await this.queryOnce('vector(1)', undefined));
    if (sample.kind !== 'value' || sample.value !== 1) throw new PrometheusQueryError(`vector(1) gave ${JSON.stringify(sample)}`, 'answer');
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.transport.close();
  }

  private async queryOnce(query: string, at: Date | undefined): Promise<QueryData> {
    const params = new URLSearchParams({ query, timeout: `${this.options.timeoutMs}ms` });
    if (at !== undefined) params.set('time', (at.getTime() / 1000).toFixed(3));
    // POST: no URL length limit (Mimir, Thanos and Cortex take the form too).
    return unwrap(await this.transport.send('POST', '/api/v1/query', params), this.options.baseUrl, responseSchema);
  }

  private async retried<T>(what: string, attempts: { count: number }, once: () => Promise<T>): Promise<T> {
    return pRetry(
      async () => {
        attempts.count += 1;
        return once();
      },
      {
        retries: this.options.retries,
        minTimeout: this.options.minBackoffMs,
        maxTimeout: this.options.maxBackoffMs,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) => error instanceof PrometheusQueryError && error.retryable,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (error instanceof PrometheusQueryError && error.retryable && retriesLeft > 0) {
            this.options.logger?.warn({ query: what, attempt: attemptNumber, retriesLeft, reason: error.reason, error: error.message }, 'prometheus query failed; retrying');
          }
        },
      },
    );
  }
}
