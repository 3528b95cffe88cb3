import type { ServiceConfig } from '@cortexops/config';
import { natsCheck, postgresCheck, temporalCheck, type RunningService, type ServiceContext } from '@cortexops/observability';
import { Connection } from '@temporalio/client';
import { connect } from 'nats';
import pg from 'pg';

/** Connects to NATS, Temporal and PostgreSQL; incidents, audit and manual actions arrive with later issues. */
export async function startApi(config: ServiceConfig<'api'>, context: ServiceContext): Promise<RunningService> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 5, connectionTimeoutMillis: 2000 });
  pool.on('error', (error) => context.logger.warn({ err: error }, 'idle PostgreSQL client failed'));
  const nc = await connect({ servers: config.natsUrl, name: `cortexops-${context.name}`, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  const connection = await Connection.connect({ address: config.temporalAddress });
  return {
    checks: [natsCheck(nc), temporalCheck(connection), postgresCheck(pool)],
    stop: async () => {
      await nc.drain();
      await connection.close();
      await pool.end();
    },
  };
}
