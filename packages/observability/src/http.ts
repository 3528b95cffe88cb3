import { HTTP_PATHS } from '@cortexops/contracts';
import { fastify, LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { HealthMonitor } from './health.js';

export type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface HttpServerOptions {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly health: HealthMonitor;
  /** Largest request body accepted, in bytes. */
  readonly bodyLimit?: number;
}

/** The small HTTP server every service uses: `/metrics`, `/debug/healthz`, and whatever the service adds. */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const loggerInstance: FastifyBaseLogger = options.logger.child({ component: 'http' });
  const app = fastify({
    loggerInstance,
    // Per-request lines would drown the logs (Prometheus scrapes every 5 s); errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.get(HTTP_PATHS.metrics, async (_request, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });
  app.get(HTTP_PATHS.health, async (_request, reply) => {
    const report = await options.health.report();
    reply.code(report.status === 'up' ? 200 : 503);
    return report;
  });
  return app;
}
