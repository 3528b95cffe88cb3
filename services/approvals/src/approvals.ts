import type { ServiceConfig } from '@cortexops/config';
import { temporalCheck, type RunningService, type ServiceContext } from '@cortexops/observability';
import { Client, Connection } from '@temporalio/client';

/** Connects to Temporal; the Slack app and the HTTP approval API arrive with the approvals issue. */
export async function startApprovals(config: ServiceConfig<'approvals'>, context: ServiceContext): Promise<RunningService> {
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  context.logger.info({ temporal: config.temporalAddress, namespace: client.options.namespace }, 'connected');
  return {
    checks: [temporalCheck(connection)],
    stop: () => connection.close(),
  };
}
