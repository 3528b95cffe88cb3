import { randomUUID } from 'node:crypto';
import type { AuditStore } from '@cortexops/audit';
import { METRICS, WORKFLOW_REFUSALS } from '@cortexops/contracts';
import type { Logger } from '@cortexops/observability';
import type { RemediationSinks } from '@cortexops/workflows';
import type { InjectedSinks } from '@temporalio/worker';
import { Counter, type Registry } from 'prom-client';

/** Refused updates stored one by one per minute and process; the rest are counted and logged once per minute. */
const STORED_PER_MINUTE = 60;
const MINUTE_MS = 60_000;

/**
 * The worker's side of the workflow's `approvals.refused` sink: an approval or cancel update refused because the
 * approvals service did not sign it (a bare Temporal client, a forged or altered decision) is written to the audit
 * store as `approval.refused` (channel `temporal`), bounded per minute so that a flood of updates is not a flood of
 * rows. Other refusals (stale, duplicate, late) arrive through the approvals service, which keeps them itself.
 */
export function approvalRefusalSinks(audit: Pick<AuditStore, 'append'>, logger: Logger, registry: Registry): InjectedSinks<RemediationSinks> {
  const counted = new Counter({
    name: METRICS.approvalRefusalsTotal,
    help: 'Refused approval attempts by channel and code; stored="false" ones were only counted (over the per-minute limit)',
    labelNames: ['channel', 'code', 'stored'] as const,
    registers: [registry],
  });
  // From the start, stored or only counted: a refusal rate over a series that exists, not nothing.
  for (const stored of ['true', 'false']) counted.inc({ channel: 'temporal', code: WORKFLOW_REFUSALS.unsigned, stored }, 0);
  let window = { start: 0, stored: 0, warned: false };
  return {
    approvals: {
      refused: {
        fn: (info, refusal) => {
          if (refusal.type !== WORKFLOW_REFUSALS.unsigned) return;
          const now = Date.now();
          if (now - window.start >= MINUTE_MS) window = { start: now, stored: 0, warned: false };
          const store = window.stored < STORED_PER_MINUTE;
          counted.inc({ channel: 'temporal', code: refusal.type, stored: String(store) });
          if (!store) {
            if (!window.warned) logger.warn({ limit: STORED_PER_MINUTE }, 'unsigned approval updates over the per-minute limit: counting them instead of storing each');
            window.warned = true;
            return;
          }
          window.stored += 1;
          logger.warn({ workflowId: info.workflowId, update: refusal.update, claimedBy: refusal.claimedBy }, `approval update refused: ${refusal.message}`);
          return audit
            .append({
              idempotencyKey: `${info.workflowId}/refused/${randomUUID()}`,
              incidentId: refusal.incidentId,
              workflowId: info.workflowId,
              kind: 'approval.refused',
              actor: `temporal:${refusal.claimedBy}`,
              occurredAt: new Date(now).toISOString(),
              payload: {
                channel: 'temporal',
                code: refusal.type,
                reason: refusal.message,
                update: refusal.update,
                ...(refusal.requestId ? { requestId: refusal.requestId } : {}),
                ...(refusal.channel ? { claimedChannel: refusal.channel } : {}),
              },
            })
            .then(
              () => undefined,
              (error: unknown) => logger.error({ err: error, workflowId: info.workflowId }, 'could not write a refused approval update to the audit store'),
            );
        },
        callDuringReplay: false,
      },
    },
  };
}
