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
  /** Largest request body accepted, in bytes (default 1 MiB). */
  readonly bodyLimit?: number;
}

/**
 * Bounds of every connection (DESIGN: bounded resources on every ingress). Bodies are read by Fastify's parsers, which
 * refuse a declared length over the limit before reading and stop a chunked body as soon as its bytes pass it; a
 * route that reads its body itself must give its parser a `bodyLimit` (the approvals service's Slack route does).
 */
const CONNECTION_BOUNDS = {
  /** A whole request (headers and body) must arrive within this (a slow upload cannot hold a socket for ever). */
  requestTimeout: 30_000,
  /** An idle socket is closed after this. */
  connectionTimeout: 60_000,
  /** Keep-alive sockets are closed after this many requests, so no client holds one for ever. */
  maxRequestsPerSocket: 10_000,
} as const;

/** The small HTTP server every service uses: `/metrics`, `/debug/healthz`, and whatever the service adds. */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const loggerInstance: FastifyBaseLogger = options.logger.child({ component: 'http' });
  const app = fastify({
    loggerInstance,
    // Per-request lines would drown the logs (Prometheus scrapes every 5 s); errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    ...CONNECTION_BOUNDS,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.get(HTTP_PATHS.metrics, async (_request, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });
  // A refused upload is not read further: the connection closes after the answer.
  app.addHook('onError', async (_request, reply, error: { code?: string }) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') reply.header('connection', 'close');
  });
  // Readiness: the report is cached (HealthMonitor), so a flood of unauthenticated requests runs few live checks.
  app.get(HTTP_PATHS.health, async (_request, reply) => {
    const report = await options.health.report();
    reply.code(report.status === 'up' ? 200 : 503);
    return report;
  });
  return app;
}
