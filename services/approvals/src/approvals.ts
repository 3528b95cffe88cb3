import type { ServiceConfig } from '@cortexops/config';
import { METRICS } from '@cortexops/contracts';
import { Counter } from 'prom-client';
import { AuditStore } from '@cortexops/audit';
import { postgresCheck, temporalCheck, type RunningService, type ServiceContext } from '@cortexops/observability';
import { connectTemporal } from '@cortexops/temporal';
import pg from 'pg';
import { Client } from '@temporalio/client';
import { recordSlackAllowList } from './allow-list-audit.js';
import { ApproverAllowList } from './approvers.js';
import { APPROVAL_ERROR_CODES } from './errors.js';
import { registerApprovalRoutes } from './http-api.js';
import { HttpIdentity } from './identity.js';
import { ApprovalJournal } from './journal.js';
import { RefusalLog } from './refusals.js';
import { ApprovalService } from './service.js';
import { DecisionSigner } from './signer.js';
import { SLACK_REFUSAL_CODES, SlackApp } from './slack.js';
import { ApproverTokens } from './tokens.js';
import { RemediationWorkflows } from './workflow-client.js';

const SLACK_VARIABLES = ['CORTEXOPS_SLACK_BOT_TOKEN', 'CORTEXOPS_SLACK_SIGNING_SECRET', 'CORTEXOPS_SLACK_CHANNEL'] as const;

/** Slack needs its three variables together; a half-configured Slack app is a start-up error. */
function slackSettings(config: ServiceConfig<'approvals'>) {
  const values = [config.slackBotToken, config.slackSigningSecret, config.slackChannel];
  const missing = SLACK_VARIABLES.filter((_, i) => values[i] === undefined);
  if (missing.length === SLACK_VARIABLES.length) return undefined;
  if (missing.length > 0) throw new Error(`Slack is half configured: also set ${missing.join(', ')} (or none of ${SLACK_VARIABLES.join(', ')})`);
  return { token: config.slackBotToken!, signingSecret: config.slackSigningSecret!, channel: config.slackChannel! };
}

/**
 * The approvals service: the Slack app (when configured), the HTTP approval API (personal tokens decide; the worker's
 * token posts requests and notes) and the Temporal client both deliver decisions through, each signed with this
 * service's key.
 */
export async function startApprovals(config: ServiceConfig<'approvals'>, context: ServiceContext): Promise<RunningService> {
  const slackConfig = slackSettings(config);
  if (config.approverGroup && !slackConfig) throw new Error('CORTEXOPS_APPROVER_GROUP needs Slack configured (it is a Slack user group)');

  const signer = config.approvalsSigningKeyFile === undefined ? undefined : DecisionSigner.fromFile(config.approvalsSigningKeyFile);
  const audit = await AuditStore.create({ databaseUrl: config.databaseUrl, logger: context.logger });
  const tokens = await ApproverTokens.create({ databaseUrl: config.databaseUrl, audit, logger: context.logger });
  const refusalsCounted = new Counter({
    name: METRICS.approvalRefusalsTotal,
    help: 'Refused approval attempts by channel and code; stored="false" ones are counted in a summary row, not stored one by one',
    labelNames: ['channel', 'code', 'stored'] as const,
    registers: [context.registry],
  });
  // Every channel × code from the start (0), stored or counted: a refusal rate over a series that exists, not nothing.
  const codes = { http: Object.values(APPROVAL_ERROR_CODES), slack: [...Object.values(APPROVAL_ERROR_CODES), ...Object.values(SLACK_REFUSAL_CODES)] };
  for (const [channel, list] of Object.entries(codes)) for (const code of list) for (const stored of ['true', 'false']) refusalsCounted.inc({ channel, code, stored }, 0);
  const refusals = new RefusalLog(audit, context.logger, {
    perMinute: config.refusalsPerMinute,
    counted: (channel, code, stored) => refusalsCounted.inc({ channel, code, stored: String(stored) }),
  });
  const healthPool = new pg.Pool({ connectionString: config.databaseUrl, max: 1, connectionTimeoutMillis: 2000 });
  healthPool.on('error', (error) => context.logger.warn({ err: error }, 'idle PostgreSQL client failed'));
  const connection = await connectTemporal(config);
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const slack = slackConfig
    ? SlackApp.create({
        ...slackConfig,
        apiUrl: config.slackApiUrl,
        retries: config.slackRetries,
        retryMinMs: config.slackRetryMinMs,
        logger: context.logger,
        onRefused: (refusal) => void refusals.record({ channel: 'slack', ...refusal }),
      })
    : undefined;
  const allowList = new ApproverAllowList({
    users: config.slackApprovers,
    ...(config.approverGroup && slack ? { group: { id: config.approverGroup, directory: slack } } : {}),
  });
  // Every change of the Slack allow-list is audited (approver.changed), as token changes are by the tokens CLI.
  await recordSlackAllowList(audit, { users: config.slackApprovers, group: config.approverGroup }, context.logger);
  const service = new ApprovalService({ workflows: new RemediationWorkflows(client), allowList, signer, slack, logger: context.logger, refusals, journal: new ApprovalJournal(audit, context.logger), incidents: audit });
  await service.resume();
  await registerApprovalRoutes(context.http, {
    service,
    slack,
    identity: new HttpIdentity(config.approvalsApiToken, tokens),
    workerConfigured: config.approvalsApiToken !== undefined,
    logger: context.logger,
    refusals,
  });

  context.logger.info(
    {
      temporal: config.temporalAddress,
      namespace: client.options.namespace,
      slack: slack ? 'on' : 'off',
      workerToken: config.approvalsApiToken ? 'set' : 'unset',
      // The public half: what the worker's CORTEXOPS_APPROVALS_VERIFY_KEYS must list.
      signingKey: signer?.publicKey ?? null,
      slackApprovers: config.slackApprovers.length,
      approverGroup: config.approverGroup ?? null,
    },
    'approvals ready',
  );
  if (slack && !allowList.configured) context.logger.warn('no Slack approvers configured (CORTEXOPS_SLACK_APPROVERS, CORTEXOPS_APPROVER_GROUP): every Slack decision will be refused');
  if (!signer) context.logger.warn('no signing key (CORTEXOPS_APPROVALS_SIGNING_KEY_FILE): no decision or cancel can be delivered');

  return {
    checks: [temporalCheck(connection), postgresCheck(healthPool), ...(slack ? [slack.healthCheck()] : [])],
    stop: async () => {
      service.beginStop();
      await connection.close();
      await service.drained();
      await refusals.close();
      await tokens.close();
      await audit.close();
      await healthPool.end();
    },
  };
}
