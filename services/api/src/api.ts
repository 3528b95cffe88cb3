import { AuditCheckpointer, AuditStore, FileCheckpointStore } from '@cortexops/audit';
import type { apiSpec, auditChainWatchSpec, auditSpec, ConfigOf, ServiceConfig } from '@cortexops/config';
import { connectNats } from '@cortexops/messaging';
import { natsCheck, temporalCheck, type RunningService, type ServiceContext } from '@cortexops/observability';
import { connectTemporal } from '@cortexops/temporal';
import pg from 'pg';
import { ApprovalsForwarder } from './approvals-forward.js';
import { AuditChainWatch } from './chain-watch.js';
import { healthTargetCheck } from './health-targets.js';
import { IncidentQueries } from './incident-queries.js';
import { registerApiRoutes } from './routes.js';

export type ApiConfig = ServiceConfig<'api'> &
  ConfigOf<typeof apiSpec> &
  ConfigOf<typeof auditChainWatchSpec> &
  Pick<ConfigOf<typeof auditSpec>, 'checkpointFile' | 'checkpointKey' | 'checkpointPreviousKey'>;

/**
 * Incidents and their reviews from the audit store, audit queries and verification, manual actions forwarded to the
 * approvals service, and `/debug/healthz` aggregated over its own connections and every configured service and server.
 */
export async function startApi(config: ApiConfig, context: ServiceContext): Promise<RunningService> {
  const store = await AuditStore.create({ databaseUrl: config.databaseUrl, logger: context.logger, poolSize: 5 });
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 5, connectionTimeoutMillis: 2000, application_name: 'cortexops-api' });
  pool.on('error', (error) => context.logger.warn({ err: error }, 'idle PostgreSQL client failed'));
  const nc = await connectNats(config, 'api', (message) => context.logger.warn(message));
  const connection = await connectTemporal(config);

  // With a signed checkpoint kept outside PostgreSQL, verify also checks that the chain up to it was not rewritten.
  const verifier =
    config.checkpointFile !== undefined && config.checkpointKey !== undefined
      ? new AuditCheckpointer(store, new FileCheckpointStore(config.checkpointFile), { current: config.checkpointKey, ...(config.checkpointPreviousKey ? { previous: config.checkpointPreviousKey } : {}) }, context.logger)
      : store;
  // cortexops_audit_chain_valid: checked on a timer (the rows since the last check; the whole chain now and then).
  const stopWatching = new AuditChainWatch(
    { intervalMs: config.auditChainCheckIntervalMs, fullIntervalMs: config.auditChainFullCheckIntervalMs },
    { chain: store, ...(verifier instanceof AuditCheckpointer ? { checkpoints: verifier } : {}), registry: context.registry, logger: context.logger },
  ).start();
  await registerApiRoutes(context.http, {
    store,
    verifier,
    incidents: new IncidentQueries(pool),
    approvals: new ApprovalsForwarder(config.apiApprovalsUrl),
    readToken: config.apiToken,
    logger: context.logger,
  });
  return {
    checks: [natsCheck(nc), temporalCheck(connection), store.dependencyCheck(), ...config.healthTargets.map((target) => healthTargetCheck(target, config.healthCaFile))],
    stop: async () => {
      await stopWatching();
      await nc.drain();
      await connection.close();
      await pool.end();
      await store.close();
    },
  };
}
