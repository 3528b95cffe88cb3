import { OPERATIONS_METRICS, remediationStateQuery, type SEARCH_ATTRIBUTES, WORKFLOW_TYPES, workflowState } from '@cortexops/contracts';
import { every, type Logger } from '@cortexops/observability';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { Gauge, type Registry } from 'prom-client';
import { historyOf, type ListedWorkflow, OPEN_STATES, type ReadHistory, summarise, toRead } from './workflow-states.js';

export interface WorkflowGaugesOptions {
  readonly intervalMs: number;
  /** Running workflows listed per refresh at most. */
  readonly maxWorkflows: number;
  /** `remediationState` queries per refresh at most. */
  readonly maxQueries: number;
  /** How long one query (and the count) may take; a list of the running workflows, twice that. */
  readonly queryTimeoutMs?: number;
}

export interface WorkflowGaugesDeps {
  readonly client: Client;
  /** Only the replica that holds it reports (the gauges are summed across replicas by the dashboards). */
  readonly leadership: { holds(): Promise<boolean>; release(): Promise<void> };
  readonly registry: Registry;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface RefreshReport {
  readonly reporting: boolean;
  readonly listed: number;
  readonly beyond: number;
  readonly queried: number;
  readonly failed: number;
}

const QUERY_CONCURRENCY = 4;
const DEFAULT_CALL_TIMEOUT_MS = 5000;
const STATE_ATTRIBUTE: keyof typeof SEARCH_ATTRIBUTES = 'CortexopsState';
/** Running remediation workflows, from Temporal visibility (newest started first). */
export const RUNNING_REMEDIATIONS = `WorkflowType = '${WORKFLOW_TYPES.remediation}' AND ExecutionStatus = 'Running'`;

function listed(info: WorkflowExecutionInfo): ListedWorkflow {
  const raw = info.typedSearchAttributes.getAll().find((pair) => pair.key.name === STATE_ATTRIBUTE)?.value;
  const state = workflowState.safeParse(raw);
  return { key: `${info.workflowId}/${info.runId}`, workflowId: info.workflowId, runId: info.runId, state: state.success ? state.data : undefined, startedAt: info.startTime.getTime() };
}

/**
 * `cortexops_workflows_open`, `cortexops_workflow_state_age_seconds` and `cortexops_workflow_state_visits` by state,
 * and `cortexops_workflows_uninspected`, refreshed every `intervalMs` by the one replica that holds the leadership
 * (the others expose the metrics without samples). A refresh lists the running remediation workflows once (Temporal
 * visibility; at most `maxWorkflows`, and when there are more, one count says how many were left out), then queries
 * `remediationState` of at most `maxQueries` of them — those that moved since they were last read first, then the
 * least recently read. A workflow not read in this refresh keeps its earlier history while visibility still shows it
 * in the state that history ends in, else it counts as uninspected until a later refresh reads it. The states' ages
 * are computed at each scrape from when the state was entered, so they grow between refreshes.
 */
export class WorkflowGauges {
  private readonly open: Gauge<'state'>;
  private readonly age: Gauge<'state'>;
  private readonly visits: Gauge<'state'>;
  private readonly uninspected: Gauge;
  private readonly histories = new Map<string, ReadHistory>();
  private enteredAt: Partial<Record<string, number>> = {};
  private reporting = false;
  private refreshes = 0;
  private stopping = false;

  constructor(
    private readonly options: WorkflowGaugesOptions,
    private readonly deps: WorkflowGaugesDeps,
  ) {
    const registers = [deps.registry];
    this.open = new Gauge({ name: OPERATIONS_METRICS.workflowsOpen, help: 'Running remediation workflows by their current state (CortexopsState in Temporal visibility); reported by one worker replica', labelNames: ['state'], registers });
    this.age = new Gauge({
      name: OPERATIONS_METRICS.workflowStateAgeSeconds,
      help: 'Per state, how long the longest-waiting running remediation workflow has been in it (0 when none); reported by one worker replica',
      labelNames: ['state'],
      registers,
      // At each scrape, from when the state was entered: the age grows between refreshes.
      collect: () => this.setAges(),
    });
    this.visits = new Gauge({ name: OPERATIONS_METRICS.workflowStateVisits, help: 'Per state, the most times one running remediation workflow has entered it; reported by one worker replica', labelNames: ['state'], registers });
    this.uninspected = new Gauge({ name: OPERATIONS_METRICS.workflowsUninspected, help: 'Running remediation workflows the state gauges could not read: beyond the list bound, or their state history not queried yet', registers });
  }

  private setAges(): void {
    this.age.reset();
    if (!this.reporting) return;
    const now = (this.deps.now ?? Date.now)();
    for (const state of OPEN_STATES) {
      const at = this.enteredAt[state];
      this.age.set({ state }, at === undefined ? 0 : Math.max(0, (now - at) / 1000));
    }
  }

  /** One refresh: list, query what changed (within the bounds), set the gauges. */
  async refresh(): Promise<RefreshReport> {
    // Not sure to hold the lock (PostgreSQL unreachable) is not holding it: another replica may report by now.
    const holds = await this.deps.leadership.holds().catch((error: unknown) => {
      this.stopReporting();
      throw error;
    });
    if (!holds) {
      this.stopReporting();
      return { reporting: false, listed: 0, beyond: 0, queried: 0, failed: 0 };
    }
    const { client } = this.deps;
    const refresh = ++this.refreshes;
    const running: ListedWorkflow[] = [];
    // The list (all its pages) and the count have deadlines: a Temporal that does not answer delays a refresh (and a
    // shutdown) by that much at most.
    const timeout = this.options.queryTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    await client.connection.withDeadline(Date.now() + 2 * timeout, async () => {
      for await (const info of client.workflow.list({ query: RUNNING_REMEDIATIONS, pageSize: Math.min(this.options.maxWorkflows, 1000) })) {
        running.push(listed(info));
        if (running.length >= this.options.maxWorkflows) break;
      }
    });
    const beyond =
      running.length >= this.options.maxWorkflows
        ? Math.max(0, (await client.connection.withDeadline(Date.now() + timeout, () => client.workflow.count(RUNNING_REMEDIATIONS))).count - running.length)
        : 0;
    const keys = new Set(running.map((w) => w.key));
    for (const key of this.histories.keys()) if (!keys.has(key)) this.histories.delete(key);
    const reads = toRead(running, this.histories, this.options.maxQueries);
    const failed = await this.read(reads, refresh);
    const summary = summarise(running, this.histories, refresh);
    for (const state of OPEN_STATES) {
      this.open.set({ state }, summary.open[state]);
      this.visits.set({ state }, summary.visits[state]);
    }
    this.enteredAt = summary.enteredAt;
    this.uninspected.set(summary.unread + beyond);
    this.reporting = true;
    if (beyond > 0) this.deps.logger.warn({ listed: running.length, beyond, bound: this.options.maxWorkflows }, 'more running remediations than the state gauges list: the rest are counted as uninspected only');
    return { reporting: true, listed: running.length, beyond, queried: reads.length, failed };
  }

  /** Queries each workflow's state history (a few at a time); the number that failed (they are tried again next refresh). */
  private async read(workflows: readonly ListedWorkflow[], refresh: number): Promise<number> {
    const queue = [...workflows];
    let failed = 0;
    const timeout = this.options.queryTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const worker = async () => {
      // Stopping: the queries not yet sent are left (a shutdown waits for the ones in flight only).
      for (let w = queue.shift(); w !== undefined && !this.stopping; w = queue.shift()) {
        const handle = this.deps.client.workflow.getHandle(w.workflowId, w.runId);
        try {
          const view = await this.deps.client.connection.withDeadline(Date.now() + timeout, () => handle.query(remediationStateQuery));
          this.histories.set(w.key, { refresh, history: historyOf(view) });
        } catch (error) {
          failed += 1;
          this.deps.logger.debug({ err: error, workflowId: w.workflowId }, 'workflow gauges: state query failed; tried again next refresh');
        }
      }
    };
    await Promise.all(Array.from({ length: QUERY_CONCURRENCY }, worker));
    return failed;
  }

  private stopReporting(): void {
    if (this.reporting) this.deps.logger.info('workflow gauges: another replica reports them');
    this.reporting = false;
    this.open.reset();
    this.visits.reset();
    this.uninspected.reset();
    this.histories.clear();
  }

  /** Refreshes now and every `intervalMs`; the returned function stops, waits for a refresh in progress and gives the leadership up. */
  start(): () => Promise<void> {
    const stop = every(this.options.intervalMs, () => this.refresh(), (error) => this.deps.logger.warn({ err: error }, 'workflow gauges: refresh failed; the gauges keep their values'));
    return async () => {
      this.stopping = true;
      await stop();
      await this.deps.leadership.release();
    };
  }
}
