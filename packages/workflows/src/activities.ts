import { proxyActivities } from '@temporalio/workflow';
import { ACTIVITY_FAILURES, type RemediationActivities } from '@cortexops/contracts';

/** Failures no retry can cure: the workflow ends with their message (or compensates). */
const PERMANENT = Object.values(ACTIVITY_FAILURES);

/** Audit writes and settings: fast, idempotent by key; retried for a while before the workflow gives up. */
export const bookkeeping = proxyActivities<Pick<RemediationActivities, 'settings' | 'recordTransition' | 'audit'>>({
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

/**
 * Changes to the cluster: idempotent by remediation id (a retry after a crash returns the first receipt, never a second
 * change), so they retry until the start-to-close budget, then the workflow compensates what was applied.
 */
export const changes = proxyActivities<Pick<RemediationActivities, 'apply' | 'revert'>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: PERMANENT },
});
