import type { ServiceConfig } from '@cortexops/config';
import { natsCheck, type RunningService, type ServiceContext } from '@cortexops/observability';
import { connect } from 'nats';

/** Connects to NATS; the consumers and source adapters arrive with the ingestion issue. */
export async function startIngestion(config: ServiceConfig<'ingestion'>, context: ServiceContext): Promise<RunningService> {
  const nc = await connect({ servers: config.natsUrl, name: `cortexops-${context.name}`, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  context.logger.info({ server: nc.getServer() }, 'connected to NATS');
  return {
    checks: [natsCheck(nc)],
    stop: () => nc.drain(),
  };
}
