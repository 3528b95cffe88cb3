import type { DependencyCheck } from './health.js';

/**
 * Health checks for the clients every service uses. They take the narrowest shape of each client,
 * so this package does not depend on the client libraries themselves.
 */

export interface NatsLike {
  isClosed(): boolean;
  flush(): Promise<void>;
}

/** A round trip to the NATS server (PING/PONG). */
export function natsCheck(nc: NatsLike, required = true): DependencyCheck {
  return {
    name: 'nats',
    required,
    check: async () => {
      if (nc.isClosed()) throw new Error('connection closed');
      await nc.flush();
    },
  };
}

export interface QueryableLike {
  query(sql: string): Promise<unknown>;
}

/** `SELECT 1` through the service's pool. */
export function postgresCheck(pool: QueryableLike, required = true): DependencyCheck {
  return { name: 'postgres', required, check: async () => void (await pool.query('SELECT 1')) };
}

export interface TemporalConnectionLike {
  healthService: { check(request: Record<string, never>, options?: { signal?: AbortSignal }): Promise<{ status?: number | null }> };
}

const SERVING = 1;

/** The Temporal frontend's gRPC health service answers SERVING. */
export function temporalCheck(connection: TemporalConnectionLike, required = true): DependencyCheck {
  return {
    name: 'temporal',
    required,
    check: async () => {
      const response = await connection.healthService.check({});
      if (response.status !== SERVING) throw new Error(`temporal frontend status ${String(response.status)}`);
    },
  };
}
