import type { StandardMetrics } from './metrics.js';

/** One thing a service depends on, and how to tell whether it answers. */
export interface DependencyCheck {
  readonly name: string;
  /** A required dependency being down makes the whole service report 503. */
  readonly required: boolean;
  check(signal: AbortSignal): Promise<void>;
}

export interface DependencyHealth {
  readonly status: 'up' | 'down';
  readonly required: boolean;
  readonly latencyMs: number;
  readonly checkedAt: string;
  /** The most recent failure, kept after recovery so an operator can see what happened. */
  readonly lastError?: string;
  readonly lastErrorAt?: string;
}

export interface HealthReport {
  readonly status: 'up' | 'down';
  readonly service: string;
  readonly dependencies: Readonly<Record<string, DependencyHealth>>;
}

export class HealthCheckTimeoutError extends Error {
  readonly code = 'HEALTH_CHECK_TIMEOUT';
  constructor(name: string, timeoutMs: number) {
    super(`${name} did not answer within ${timeoutMs} ms`);
    this.name = 'HealthCheckTimeoutError';
  }
}

function withTimeout(check: DependencyCheck, timeoutMs: number): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new HealthCheckTimeoutError(check.name, timeoutMs));
    }, timeoutMs);
  });
  return Promise.race([check.check(controller.signal), timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(describe).join('; ');
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** Live checks run at most this often by default, whatever the request rate (the report is shared meanwhile). */
export const HEALTH_CACHE_MS = 2000;

export interface HealthMonitorOptions {
  readonly timeoutMs: number;
  readonly metrics?: StandardMetrics;
  /**
   * A report is reused for this long, and concurrent requests share the one being made: `/debug/healthz` is
   * unauthenticated, so a flood of requests must not become a flood of live checks (default {@link HEALTH_CACHE_MS};
   * 0 checks on every report).
   */
  readonly cacheMs?: number;
  readonly now?: () => number;
}

/**
 * Runs every check, concurrently and bounded in time, remembers failures, and reuses a report for `cacheMs` (one live
 * check of each dependency per interval, however many ask).
 */
export class HealthMonitor {
  private readonly checks: DependencyCheck[] = [];
  private readonly lastErrors = new Map<string, { message: string; at: string }>();
  /** The report being made or last made, and when it was started. */
  private latest: { readonly startedAt: number; readonly report: Promise<HealthReport> } | undefined;

  constructor(
    private readonly service: string,
    private readonly options: HealthMonitorOptions,
  ) {}

  add(...checks: DependencyCheck[]): void {
    this.checks.push(...checks);
    this.latest = undefined;
  }

  report(): Promise<HealthReport> {
    const now = (this.options.now ?? Date.now)();
    const fresh = this.latest !== undefined && now - this.latest.startedAt < (this.options.cacheMs ?? HEALTH_CACHE_MS);
    if (!fresh || this.latest === undefined) this.latest = { startedAt: now, report: this.live() };
    return this.latest.report;
  }

  private async live(): Promise<HealthReport> {
    const entries = await Promise.all(this.checks.map(async (c) => [c.name, await this.run(c)] as const));
    const dependencies = Object.fromEntries(entries);
    const down = entries.some(([, h]) => h.required && h.status === 'down');
    return { status: down ? 'down' : 'up', service: this.service, dependencies };
  }

  private async run(check: DependencyCheck): Promise<DependencyHealth> {
    const started = performance.now();
    let status: DependencyHealth['status'] = 'up';
    try {
      await withTimeout(check, this.options.timeoutMs);
    } catch (error) {
      status = 'down';
      this.lastErrors.set(check.name, { message: describe(error), at: new Date().toISOString() });
    }
    const latencyMs = Math.round((performance.now() - started) * 100) / 100;
    this.options.metrics?.dependencyUp.set({ dependency: check.name }, status === 'up' ? 1 : 0);
    this.options.metrics?.dependencyCheckSeconds.observe({ dependency: check.name }, latencyMs / 1000);
    const last = this.lastErrors.get(check.name);
    return {
      status,
      required: check.required,
      latencyMs,
      checkedAt: new Date().toISOString(),
      ...(last ? { lastError: last.message, lastErrorAt: last.at } : {}),
    };
  }
}
