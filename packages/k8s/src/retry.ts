import pRetry from 'p-retry';
import { KubernetesGatewayError } from './errors.js';

export interface RetryOptions {
  /** Attempts after the first (default 5). */
  readonly retries?: number;
  /** First backoff in ms (default 50), doubling with jitter up to `maxTimeoutMs` (default 2000). */
  readonly minTimeoutMs?: number;
  readonly maxTimeoutMs?: number;
  /** Told of each failed attempt that will be retried (Conflict, transient network error, 429/5xx). */
  readonly onRetry?: (error: KubernetesGatewayError, attempt: number) => void;
}

/**
 * Runs `attempt` (read, decide, write) again after a retryable gateway error: a Conflict means the
 * object changed since it was read, so the next attempt reads it afresh. Everything else (Forbidden,
 * NotFound, Invalid, bad input) fails at once. Bounded: at most `retries` more attempts.
 */
export function withRetry<T>(attempt: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  return pRetry(attempt, {
    retries: options.retries ?? 5,
    minTimeout: options.minTimeoutMs ?? 50,
    maxTimeout: options.maxTimeoutMs ?? 2000,
    factor: 2,
    randomize: true,
    shouldRetry: ({ error }) => error instanceof KubernetesGatewayError && error.retryable,
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (error instanceof KubernetesGatewayError && error.retryable && retriesLeft > 0) options.onRetry?.(error, attemptNumber);
    },
  });
}
