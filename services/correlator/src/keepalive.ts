import { incidentWorkflowId, WORKFLOW_TYPES } from '@cortexops/contracts';
import { every } from '@cortexops/observability';
import type { Client } from '@temporalio/client';
import type { GroupStore } from './store.js';

/** The memo key under which an incident's workflow carries its group key (set when the correlator starts it). */
export const GROUP_MEMO = 'cortexopsGroup';

/**
 * How often open incidents are looked for, and how old a stored group must be to be written again: a quarter and half
 * of the state TTL, so an open incident's group is rewritten between half and three quarters of its TTL — never
 * reaching it — and a group written by its signals meanwhile is left alone.
 */
export function keepAliveTimes(ttlMs: number): { readonly everyMs: number; readonly olderThanMs: number } {
  return { everyMs: Math.min(3_600_000, Math.max(1000, Math.floor(ttlMs / 4))), olderThanMs: Math.floor(ttlMs / 2) };
}

export interface KeepAliveOptions {
  readonly client: Client;
  readonly taskQueue: string;
  readonly store: GroupStore;
  readonly ttlMs: number;
  readonly onError: (error: unknown) => void;
  /** Called after a pass with the groups it wrote again (tests, logs). */
  readonly onPass?: (kept: readonly string[]) => void;
}

/**
 * Open incidents are never forgotten while their workflow runs: the KV TTL bounds the correlator's state, and an
 * incident whose problem goes quiet (no signal: Alertmanager's repeat interval, an approval waiting for days) would
 * expire while its workflow still runs — then a repeat signal opens a second incident of the same problem. On a timer,
 * every replica lists the remediation workflows Temporal says are **running** (its liveness is the check: a closed
 * one is not kept, and its group then expires) and writes each one's group again, unchanged, when it still holds that
 * incident open and was stored {@link keepAliveTimes} ago (compare-and-set: a replica deciding meanwhile wins).
 * Workflows started before the group memo existed are not listed with one and are not kept.
 */
export function startKeepAlive(options: KeepAliveOptions): { stop(): Promise<void> } {
  const { everyMs, olderThanMs } = keepAliveTimes(options.ttlMs);
  const prefix = incidentWorkflowId('');
  const query = `WorkflowType = '${WORKFLOW_TYPES.remediation}' AND TaskQueue = '${options.taskQueue}' AND ExecutionStatus = 'Running'`;
  const pass = async (): Promise<void> => {
    const kept: string[] = [];
    for await (const execution of options.client.workflow.list({ query })) {
      const group = execution.memo?.[GROUP_MEMO];
      if (typeof group !== 'string' || !execution.workflowId.startsWith(prefix)) continue;
      if (await options.store.keepOpen(group, execution.workflowId.slice(prefix.length), olderThanMs)) kept.push(group);
    }
    options.onPass?.(kept);
  };
  // A first pass a minute after start (or sooner): replicas restarted more often than every TTL/4 still keep them.
  const stop = every(everyMs, pass, options.onError, { firstAfterMs: Math.min(everyMs, 60_000) });
  return { stop };
}
