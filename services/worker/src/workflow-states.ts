import { TERMINAL_STATES, WORKFLOW_STATES, type WorkflowState, workflowState } from '@cortexops/contracts';

/** The states a running remediation waits in: every gauge has a series for each (0 when none). */
export const OPEN_STATES: readonly WorkflowState[] = WORKFLOW_STATES.filter((s) => !TERMINAL_STATES.has(s));

/** A running workflow as visibility lists it. */
export interface ListedWorkflow {
  /** Workflow id and run id: what the read histories are kept by. */
  readonly key: string;
  readonly workflowId: string;
  readonly runId: string;
  /** Its `CortexopsState` search attribute (undefined before its first transition). */
  readonly state: WorkflowState | undefined;
  readonly startedAt: number;
}

/** A workflow's state history as its `remediationState` query answered, and the refresh that read it. */
export interface ReadHistory {
  readonly refresh: number;
  readonly history: readonly { readonly state: WorkflowState; readonly at: number }[];
}

export interface StateSummary {
  readonly open: Readonly<Record<WorkflowState, number>>;
  /** Per open state, when the longest-waiting workflow in it entered it (ms); absent when none. */
  readonly enteredAt: Readonly<Partial<Record<WorkflowState, number>>>;
  /** Per open state, the most times one running workflow entered it. */
  readonly visits: Readonly<Record<WorkflowState, number>>;
  /** Listed workflows whose history was not read in this refresh and does not end in their current state (not queried yet, or the query failed). */
  readonly unread: number;
}

const zeros = (): Record<WorkflowState, number> => Object.fromEntries(OPEN_STATES.map((s) => [s, 0])) as Record<WorkflowState, number>;

/**
 * A history says how the workflow stands when it was read in this refresh, or when it still ends in the state
 * visibility shows (read earlier; the workflow has not moved since, as far as visibility knows).
 */
function usable(workflow: ListedWorkflow, read: ReadHistory | undefined, refresh: number): ReadHistory | undefined {
  if (!read || read.history.length === 0) return undefined;
  return read.refresh === refresh || read.history.at(-1)?.state === workflow.state ? read : undefined;
}

/** The gauges' values from what visibility lists and the histories read so far (`refresh`: the current one). */
export function summarise(listed: readonly ListedWorkflow[], histories: ReadonlyMap<string, ReadHistory>, refresh: number): StateSummary {
  const open = zeros();
  const visits = zeros();
  const enteredAt: Partial<Record<WorkflowState, number>> = {};
  let unread = 0;
  for (const workflow of listed) {
    if (workflow.state !== undefined && workflow.state in open) open[workflow.state] += 1;
    const read = usable(workflow, histories.get(workflow.key), refresh);
    if (!read) {
      unread += 1;
      continue;
    }
    const last = read.history.at(-1)!;
    if (last.state in open) enteredAt[last.state] = Math.min(enteredAt[last.state] ?? Number.POSITIVE_INFINITY, last.at);
    const counts = new Map<WorkflowState, number>();
    for (const entry of read.history) counts.set(entry.state, (counts.get(entry.state) ?? 0) + 1);
    for (const [state, n] of counts) if (state in visits) visits[state] = Math.max(visits[state], n);
  }
  return { open, enteredAt, visits, unread };
}

/**
 * Which workflows to query now, at most `max`: first those never read or whose visibility state is not where their
 * read history ends (they moved), oldest started first; then the others, least recently read first. Visibility has no
 * other change marker (a running workflow's history length is not kept there), so with `max` at least the number
 * running, every workflow is read on every refresh and a loop between two refreshes is seen too.
 */
export function toRead(listed: readonly ListedWorkflow[], histories: ReadonlyMap<string, ReadHistory>, max: number): ListedWorkflow[] {
  const moved = (w: ListedWorkflow) => {
    const read = histories.get(w.key);
    return read === undefined || read.history.at(-1)?.state !== w.state;
  };
  const candidates = listed.filter((w) => w.state !== undefined);
  const first = candidates.filter(moved).sort((a, b) => a.startedAt - b.startedAt);
  const rest = candidates.filter((w) => !moved(w)).sort((a, b) => histories.get(a.key)!.refresh - histories.get(b.key)!.refresh || a.startedAt - b.startedAt);
  return [...first, ...rest].slice(0, max);
}

/** The history of a `remediationState` answer, keeping only entries with a known state and a readable time. */
export function historyOf(answer: { readonly history?: unknown }): ReadHistory['history'] {
  if (!Array.isArray(answer.history)) return [];
  return answer.history.flatMap((entry: unknown) => {
    const { state, at } = (entry ?? {}) as { state?: unknown; at?: unknown };
    const parsed = workflowState.safeParse(state);
    const time = typeof at === 'string' ? Date.parse(at) : Number.NaN;
    return parsed.success && Number.isFinite(time) ? [{ state: parsed.data, at: time }] : [];
  });
}
