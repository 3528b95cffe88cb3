import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type DependencyCheck, HealthMonitor } from './health.js';
import { createHttpServer } from './http.js';
import { createLogger } from './logger.js';
import { createMetricsRegistry, type MetricsRegistry } from './metrics.js';

export interface ServiceBaseConfig {
  readonly port: number;
  readonly httpHost: string;
  readonly logLevel: string;
  readonly shutdownTimeoutMs: number;
}

export interface ServiceContext extends MetricsRegistry {
  readonly name: string;
  readonly logger: Logger;
  readonly health: HealthMonitor;
  /** Add routes before `start` returns; the server listens afterwards. */
  readonly http: FastifyInstance;
}

export interface RunningService {
  readonly checks: readonly DependencyCheck[];
  /** Drain in-flight work and close connections; called once on SIGTERM/SIGINT. */
  stop(): Promise<void>;
  /**
   * Settles when a part the service cannot live without stopped by itself (e.g. the Temporal worker failed).
   * The service then shuts down and exits 1, so that its supervisor restarts it: a live process whose core
   * is dead would otherwise pass a liveness probe forever.
   */
  readonly ended?: Promise<unknown>;
}

export interface ServiceHandle {
  readonly context: ServiceContext;
  readonly address: string;
  /** Stops the service the same way SIGTERM does. */
  shutdown(reason: string): Promise<void>;
}

const HEALTH_CHECK_TIMEOUT_MS = 2000;

/**
 * The lifecycle every service shares: logger, metrics, health, HTTP; connect; listen; and on SIGTERM
 * stop taking requests, drain, close. A shutdown that overruns its budget exits non-zero.
 */
export async function runService(
  name: string,
  config: ServiceBaseConfig,
  start: (context: ServiceContext) => Promise<RunningService>,
  options: { readonly installSignalHandlers?: boolean; readonly logDestination?: NodeJS.WritableStream } = {},
): Promise<ServiceHandle> {
  const logger = createLogger({ service: name, level: config.logLevel, ...(options.logDestination ? { destination: options.logDestination } : {}) });
  const metricsRegistry = createMetricsRegistry(name);
  const health = new HealthMonitor(name, { timeoutMs: HEALTH_CHECK_TIMEOUT_MS, metrics: metricsRegistry.metrics });
  const http = createHttpServer({ logger, registry: metricsRegistry.registry, health });
  const context: ServiceContext = { name, logger, health, http, ...metricsRegistry };

  const running = await start(context);
  health.add(...running.checks);
  const address = await http.listen({ port: config.port, host: config.httpHost });
  logger.info({ address }, `${name} listening`);

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ reason }, `${name} shutting down`);
      const budget = setTimeout(() => {
        logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown overran its budget; exiting');
        process.exit(1);
      }, config.shutdownTimeoutMs);
      budget.unref();
      try {
        await http.close();
        await running.stop();
        logger.info(`${name} stopped`);
      } finally {
        clearTimeout(budget);
        logger.flush();
      }
    })();
    return stopping;
  };

  running.ended?.then(
    () => endedByItself(),
    (error: unknown) => endedByItself(error),
  );
  function endedByItself(error?: unknown): void {
    if (stopping) return;
    logger.fatal({ err: error }, `${name}: a required part stopped by itself; shutting down`);
    const exit = options.installSignalHandlers ?? true;
    shutdown('required part stopped').then(
      () => exit && process.exit(1),
      () => exit && process.exit(1),
    );
  }

  if (options.installSignalHandlers ?? true) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        shutdown(signal).then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
  }
  return { context, address, shutdown };
}

/** Entry-point wrapper: a start-up failure is logged as one clear line and exits 1. */
export function main(run: () => Promise<unknown>): void {
  run().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
