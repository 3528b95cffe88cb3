import type { Logger } from '@cortexops/observability';
import pRetry from 'p-retry';
import { z } from 'zod';
import { InvalidPrometheusOptionError, PrometheusQueryError } from './errors.js';

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
  /** The query failed: after `attempts` attempts (retryable failures), or at once (a bad query, an unreadable answer). */
  | { readonly kind: 'error'; readonly message: string; readonly attempts: number };

/** The narrow interface measuring needs (tests give a fake). */
export interface InstantQuerier {
  instant(query: string, at?: Date): Promise<InstantSample>;
}

export interface PrometheusClientOptions {
  /** `http(s)://host:port[/prefix]` of the Prometheus HTTP API (the prefix when it runs behind `--web.route-prefix`). */
  readonly baseUrl: string;
  /** Per attempt: the request is aborted after this long, and Prometheus is asked to stop evaluating by then. */
  readonly timeoutMs: number;
  /** Attempts after the first, for retryable failures only (network, timeout, 429, 5xx). */
  readonly retries: number;
  /** First backoff (default 200 ms), doubling with jitter up to `maxBackoffMs` (default 2000 ms). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Told of each retried and each failed query. */
  readonly logger?: Logger;
  /** The fetch to use (tests); the global one by default. */
  readonly fetch?: typeof globalThis.fetch;
}

const DEFAULTS = { minBackoffMs: 200, maxBackoffMs: 2000 } as const;

const optionsSchema = z
  .object({
    baseUrl: z
      .string()
      .min(1, 'is required')
      .refine((v) => URL.canParse(v) && ['http:', 'https:'].includes(new URL(v).protocol), 'must be an http(s) URL')
      .refine((v) => !URL.canParse(v) || (new URL(v).search === '' && new URL(v).hash === ''), 'must not have a query or fragment'),
    timeoutMs: z.int('must be an integer').min(1, 'must be at least 1').max(300_000, 'must be at most 300000'),
    retries: z.int('must be an integer').min(0, 'must be at least 0').max(10, 'must be at most 10'),
    minBackoffMs: z.int('must be an integer').min(0, 'must be at least 0').max(60_000, 'must be at most 60000'),
    maxBackoffMs: z.int('must be an integer').min(0, 'must be at least 0').max(60_000, 'must be at most 60000'),
  })
  .refine((o) => o.minBackoffMs <= o.maxBackoffMs, { path: ['maxBackoffMs'], message: 'must be at least minBackoffMs' });

/** The HTTP API's envelope (https://prometheus.io/docs/prometheus/latest/querying/api/#format-overview). */
const sampleValue = z.tuple([z.number(), z.string()]);
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
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);
type QueryData = Extract<z.output<typeof responseSchema>, { status: 'success' }>['data'];

/** Prometheus error types that another attempt may cure; `bad_data` and `execution` are the query's own fault. */
const RETRYABLE_ERROR_TYPES = new Set(['timeout', 'canceled', 'internal', 'unavailable']);

/** A sample value as Prometheus writes it: a decimal, or `NaN`, `+Inf`, `-Inf`. */
export function classifyValue(raw: string): InstantSample {
  if (raw === 'NaN' || raw === '+Inf' || raw === '-Inf') return { kind: 'not-a-number', raw };
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) return { kind: 'not-a-number', raw };
  return { kind: 'value', value };
}

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
      throw new PrometheusQueryError(`the query gives a ${data.resultType}, not an instant vector or a scalar`, false);
  }
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error.message;
}

/** Instant queries against the Prometheus HTTP API; failures come back as `{ kind: 'error' }`, never thrown. */
export class PrometheusClient implements InstantQuerier {
  private readonly queryUrl: string;

  private constructor(
    private readonly options: Required<Omit<PrometheusClientOptions, 'logger' | 'fetch'>> & Pick<PrometheusClientOptions, 'logger'>,
    private readonly fetchImpl: typeof globalThis.fetch,
  ) {
    this.queryUrl = `${options.baseUrl.replace(/\/+$/, '')}/api/v1/query`;
  }

  /** Validates the options (`InvalidPrometheusOptionError` names the first bad one); does no I/O. */
  static create(options: PrometheusClientOptions): PrometheusClient {
    const merged = { ...DEFAULTS, ...options };
    const parsed = optionsSchema.safeParse(merged);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidPrometheusOptionError(issue?.path.join('.') || '(options)', issue?.message ?? 'invalid');
    }
    return new PrometheusClient({ ...parsed.data, logger: options.logger }, options.fetch ?? globalThis.fetch);
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /**
   * One instant query (at `at`, or now), classified. Network errors, timeouts, 429 and 5xx are retried up to `retries`
   * times with backoff; a bad query (400 `bad_data`, 422 `execution`) and an answer that is not the API's envelope
   * are not retried.
   */
  async instant(query: string, at?: Date): Promise<InstantSample> {
    let attempts = 0;
    try {
      return await pRetry(
        async () => {
          attempts += 1;
          return await this.attempt(query, at);
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
              this.options.logger?.warn({ query, attempt: attemptNumber, retriesLeft, error: error.message }, 'prometheus query failed; retrying');
            }
          },
        },
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.options.logger?.warn({ query, attempts, error: message }, 'prometheus query failed');
      return { kind: 'error', message, attempts };
    }
  }

  private async attempt(query: string, at: Date | undefined): Promise<InstantSample> {
    const body = new URLSearchParams({ query, timeout: `${this.options.timeoutMs}ms` });
    if (at !== undefined) body.set('time', (at.getTime() / 1000).toFixed(3));
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(this.queryUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
        throw new PrometheusQueryError(`no answer from ${this.options.baseUrl} within ${this.options.timeoutMs} ms`, true, undefined, { cause: error });
      }
      throw new PrometheusQueryError(`cannot reach ${this.options.baseUrl}: ${describeCause(error)}`, true, undefined, { cause: error });
    }
    const transient = response.status === 429 || response.status >= 500;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PrometheusQueryError(`HTTP ${response.status} from ${this.options.baseUrl}: not JSON (${text.slice(0, 120)})`, transient, response.status);
    }
    const parsed = responseSchema.safeParse(json);
    if (!parsed.success) {
      throw new PrometheusQueryError(`HTTP ${response.status} from ${this.options.baseUrl}: not a Prometheus API answer (${parsed.error.issues[0]?.message ?? 'invalid'})`, transient, response.status);
    }
    const answer = parsed.data;
    if (answer.status === 'error') {
      throw new PrometheusQueryError(`${answer.errorType}: ${answer.error}`, RETRYABLE_ERROR_TYPES.has(answer.errorType) || transient, response.status);
    }
    return classify(answer.data);
  }
}
