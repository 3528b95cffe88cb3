import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { ACTIVITY_FAILURES, type RemediationActivities } from '@cortexops/contracts';

/** Failures no retry can cure: the workflow ends with their message (or compensates). */
const PERMANENT = Object.values(ACTIVITY_FAILURES);

/**
 * Audit writes and settings: one short database write each, idempotent by key, about a dozen per workflow. Local
 * activities (run by the worker that runs the workflow, no task-queue round trip): they halve what a remediation costs
 * the worker. Retried for a while before the workflow gives up.
 */
export const bookkeeping = proxyLocalActivities<Pick<RemediationActivities, 'settings' | 'recordTransition' | 'audit'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20, nonRetryableErrorTypes: PERMANENT },
});

/** Reads and decisions (diagnosis, plan, dry run, policy): pure or read-only, safe to retry. */
export const analysis = proxyActivities<Pick<RemediationActivities, 'diagnose' | 'plan' | 'dryRun' | 'checkPlanPolicy' | 'measure'>>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '20 seconds', maximumAttempts: 5, nonRetryableErrorTypes: PERMANENT },
});

/** Messages to people (the approvals service retries Slack itself). */
export const messages = proxyActivities<Pick<RemediationActivities, 'requestApproval' | 'postNote' | 'publishRemediationNotice'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes: PERMANENT },
});

const CHANGE_RETRY = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: PERMANENT } as const;

/**
 * An apply: idempotent by remediation id (a retry after a crash returns the first receipt, never a second change).
 * One attempt takes well under a second (read, dry run, patch, with the gateway's own conflict retries); the short
 * budget is what a worker that died mid-apply costs before another worker retries it.
 */
export const applying = proxyActivities<Pick<RemediationActivities, 'apply'>>({ startToCloseTimeout: '30 seconds', retry: CHANGE_RETRY });

/** A revert: a deleted pod's revert waits up to a minute for its controller to replace it. */
export const reverting = proxyActivities<Pick<RemediationActivities, 'revert'>>({ startToCloseTimeout: '2 minutes', retry: CHANGE_RETRY });

/**
 * The finished incident written to incident memory (an embedding and one upsert, idempotent by incident id). A few
 * attempts: the memory teaches later incidents, it never decides this one's outcome.
 */
export const remembering = proxyActivities<Pick<RemediationActivities, 'rememberIncident'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT },
});
