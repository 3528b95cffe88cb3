import type { AuditStore } from '@cortexops/audit';
import type { Action, AuditRecord, PolicyInput } from '@cortexops/contracts';
import { actionLabel } from '@cortexops/workflows';

const HOUR_MS = 3600_000;
/** Outcomes older than this do not count towards the circuit breaker. */
const FAILURE_MEMORY_MS = 24 * HOUR_MS;

type AuditReader = Pick<AuditStore, 'query'>;

async function recent(audit: AuditReader, kinds: ['action.applied'] | ['verification.completed', 'compensation.failed'], from: Date, to: Date): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  let afterSequence: number | undefined;
  // Pages of 1000; a cluster changing more than a few thousand times an hour is over every limit anyway.
  for (let page = 0; page < 10; page++) {
    const result = await audit.query({ kinds, from: from.toISOString(), to: to.toISOString(), limit: 1000, ...(afterSequence === undefined ? {} : { afterSequence }) });
    records.push(...result.records);
    if (result.nextAfterSequence === undefined) break;
    afterSequence = result.nextAfterSequence;
  }
  return records;
}

/**
 * The counts the policy decides on, computed from the audit store (never taken from a caller): changes to this target
 * and to the cluster in the last hour, and the target's consecutive failed remediations (newest first, up to the last
 * success, within a day).
 */
export async function policyCounts(audit: AuditReader, action: Action, now: Date): Promise<PolicyInput['counts']> {
  const target = actionLabel(action);
  const applied = await recent(audit, ['action.applied'], new Date(now.getTime() - HOUR_MS), new Date(now.getTime() + 1));
  const outcomes = await recent(audit, ['verification.completed', 'compensation.failed'], new Date(now.getTime() - FAILURE_MEMORY_MS), new Date(now.getTime() + 1));
  let consecutiveFailures = 0;
  // A compensation's own check is not an outcome of a remediation: the verification before it was.
  for (const record of outcomes.filter((r) => r.payload['target'] === target && r.payload['compensation'] !== true).reverse()) {
    if (record.kind === 'verification.completed' && record.payload['verdict'] === 'success') break;
    consecutiveFailures += 1;
  }
  return {
    targetActionsLastHour: applied.filter((r) => r.payload['target'] === target).length,
    clusterActionsLastHour: applied.length,
    consecutiveFailures,
  };
}

/** `CORTEXOPS_ENVIRONMENTS` entries (`namespace=environment`) as a lookup; a malformed entry is a start-up error. */
export function environmentOf(entries: readonly string[], fallback: string): (namespace: string | undefined) => string {
  const table = new Map<string, string>();
  for (const entry of entries) {
    const [namespace, environment, ...rest] = entry.split('=');
    if (!namespace || !environment || rest.length > 0) throw new Error(`CORTEXOPS_ENVIRONMENTS: "${entry}" is not namespace=environment`);
    table.set(namespace.trim(), environment.trim());
  }
  return (namespace) => (namespace === undefined ? fallback : (table.get(namespace) ?? fallback));
}
