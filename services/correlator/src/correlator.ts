import type { ServiceConfig } from '@cortexops/config';
import { natsCheck, temporalCheck, type RunningService, type ServiceContext } from '@cortexops/observability';
import { Client, Connection } from '@temporalio/client';
import { connect } from 'nats';

/** Connects to NATS and Temporal; the correlation engine arrives with the correlation issue. */
export async function startCorrelator(config: ServiceConfig<'correlator'>, context: ServiceContext): Promise<RunningService> {
  const nc = await connect({ servers: config.natsUrl, name: `cortexops-${context.name}`, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  context.logger.info({ nats: nc.getServer(), temporal: config.temporalAddress, namespace: client.options.namespace }, 'connected');
  return {
    checks: [natsCheck(nc), temporalCheck(connection)],
    stop: async () => {
      await nc.drain();
      await connection.close();
    },
  };
}
