import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { LegendDisplayMode, LegendPlacement, VizLegendOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { DashboardBuilder, RowBuilder, type Dashboard, type Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/** The datasource every provisioned dashboard uses (deploy/grafana/provisioning/datasources/prometheus.yml). */
const DATASOURCE = { type: 'prometheus', uid: 'prometheus' } as const;

interface Query {
  readonly expr: string;
  readonly legend: string;
}

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly kind: 'timeseries' | 'stat';
  readonly unit: string;
  readonly queries: readonly Query[];
}

interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

const rate = (selector: string, by = ''): string => `sum${by ? ` by (${by})` : ''} (rate(${selector}[$__rate_interval]))`;
const increase = (selector: string, by = ''): string => `sum${by ? ` by (${by})` : ''} (increase(${selector}[$__rate_interval]))`;
const latency = (q: number): string =>
  `histogram_quantile(${q}, sum by (le) (rate(cortexops_correlation_latency_seconds_bucket{service="correlator"}[$__rate_interval])))`;

const q = (expr: string, legend: string): Query => ({ expr, legend });
const timeseries = (title: string, unit: string, description: string, ...queries: Query[]): PanelSpec => ({ title, description, kind: 'timeseries', unit, queries });
const stat = (title: string, unit: string, description: string, query: Query): PanelSpec => ({ title, description, kind: 'stat', unit, queries: [query] });

/**
 * The operator's overview, row by row. Every expression here is run against the real local Prometheus by
 * packages/testkit/test/integration/dashboards.test.ts after a run of the demo.
 */
export const OVERVIEW_ROWS: readonly RowSpec[] = [
  {
    title: 'Ingestion',
    panels: [
      timeseries(
        'Ingestion rate by source and outcome',
        'ops',
        'Telemetry handled by ingestion: accepted (published to SIGNALS), duplicate, rejected (dead letter), retried (handed back).',
        q(rate('cortexops_events_ingested_total', 'source, outcome'), '{{source}} {{outcome}}'),
      ),
      timeseries(
        'Drops and backpressure',
        'ops',
        'Telemetry the TELEMETRY stream discarded unread (its limits), Alertmanager calls refused unread (busy, too large), and messages handed back for redelivery.',
        q(rate('cortexops_telemetry_dropped_total'), 'dropped by TELEMETRY limits'),
        q(rate('cortexops_webhook_refused_total', 'reason'), 'webhook refused: {{reason}}'),
        q(rate('cortexops_events_ingested_total{outcome="retried"}', 'source'), 'handed back: {{source}}'),
      ),
      timeseries(
        'Dead letters',
        'short',
        'Telemetry that failed validation, kept in the dead-letter stream with its reason; and dead letters the stream discarded by its limits (bytes: lost in a flood; age: retention). Every ingestion replica reads the same stream, hence max.',
        q(increase('cortexops_events_ingested_total{outcome="rejected"}', 'source'), '{{source}}'),
        q('max by (limit) (increase(cortexops_deadletters_dropped_total[$__rate_interval]))', 'discarded by the {{limit}} limit'),
      ),
    ],
  },
  {
    title: 'Correlation',
    panels: [
      timeseries(
        'Correlation latency p50 / p95 / p99',
        's',
        'From a decide slot taking a signal to its decision stored (excludes the queue before the slot and the workflow call).',
        q(latency(0.5), 'p50'),
        q(latency(0.95), 'p95'),
        q(latency(0.99), 'p99'),
      ),
      timeseries(
        'Correlator decisions',
        'ops',
        'open, attach, pending, deduplicated, resolve, flap, escalate, cooldown, held, duplicate, ignored.',
        q(rate('cortexops_correlator_decisions_total', 'decision'), '{{decision}}'),
      ),
    ],
  },
  {
    title: 'Remediation',
    panels: [
      stat(
        'Workflow success rate',
        'percentunit',
        'Share of the remediation workflows that ended in the time range whose outcome is resolved.',
        q('sum(increase(cortexops_workflows_total{outcome="resolved"}[$__range])) / sum(increase(cortexops_workflows_total[$__range]))', 'resolved'),
      ),
      timeseries(
        'Workflows ended, by outcome',
        'short',
        'The final state of each remediation workflow: resolved, rolled_back, escalated, denied, rejected, expired, failed, observed, cancelled.',
        q(increase('cortexops_workflows_total', 'outcome'), '{{outcome}}'),
      ),
      timeseries(
        'Open workflows by state',
        'short',
        'Running remediation workflows by their current state (the CortexopsState search attribute).',
        q('sum by (state) (cortexops_workflows_open)', '{{state}}'),
      ),
      timeseries('Policy denials', 'short', 'Workflows the OPA policy denied (final state DENIED).', q(increase('cortexops_workflows_total{outcome="denied"}'), 'denied')),
      timeseries(
        'Compensations',
        'short',
        'Changes whose verification failed: rolled back (compensated and verified) or failed (the compensation did not verify, or someone else changed the object).',
        q(increase('cortexops_workflows_total{outcome="rolled_back"}'), 'rolled back'),
        q(increase('cortexops_workflows_total{outcome="failed"}'), 'failed'),
      ),
      timeseries(
        'Verification results',
        'short',
        'Verification measurement rounds by outcome: success, failure, inconclusive (empty, NaN, too few samples).',
        q(increase('cortexops_verification_measurements_total', 'outcome'), '{{outcome}}'),
      ),
    ],
  },
  {
    title: 'Approvals',
    panels: [
      stat('Approvals pending', 'short', 'Workflows waiting for a human decision now.', q('sum(cortexops_workflows_open{state="APPROVAL_PENDING"})', 'pending')),
      stat(
        'Oldest pending approval',
        's',
        'How long the longest-waiting approval request has waited (it expires after CORTEXOPS_APPROVAL_TIMEOUT_MS).',
        q('max(cortexops_workflow_state_age_seconds{state="APPROVAL_PENDING"})', 'oldest'),
      ),
      timeseries(
        'Refused approval attempts',
        'short',
        'Approval and cancel attempts refused, by channel and code (unsigned, self-approval, stale plan, unknown approver ...).',
        q(increase('cortexops_approval_refusals_total', 'channel, code'), '{{channel}} {{code}}'),
      ),
    ],
  },
  {
    title: 'LLM',
    panels: [
      timeseries('LLM token usage', 'short', 'Tokens the LLM advisor used, by kind.', q(rate('cortexops_llm_tokens_total', 'kind'), '{{kind}}')),
      timeseries(
        'LLM requests and fallbacks',
        'ops',
        'Chat requests by outcome, and plans that came from the heuristics although the advisor is configured, by reason.',
        q(rate('cortexops_llm_requests_total', 'outcome'), 'request: {{outcome}}'),
        q(rate('cortexops_llm_fallbacks_total', 'reason'), 'fallback: {{reason}}'),
      ),
      timeseries(
        'LLM spend and circuit',
        'short',
        'Estimated spend in US dollars over the range, and 1 while the circuit is open (calls skipped after repeated failures).',
        q('sum(increase(cortexops_llm_cost_usd_total[$__range]))', 'USD'),
        q('max(cortexops_llm_circuit_open)', 'circuit open'),
      ),
    ],
  },
  {
    title: 'Components',
    panels: [
      timeseries('Services up', 'short', 'Whether Prometheus scraped each service (1) or not (0).', q('up{job="cortexops"}', '{{instance}}')),
      timeseries(
        'Dependencies up',
        'short',
        "Each service's health check of each dependency (1 up, 0 down).",
        q('min by (service, dependency) (cortexops_dependency_up)', '{{service}} → {{dependency}}'),
      ),
      stat('Audit chain', 'short', '1 while the audit hash chain verifies, 0 when a record was changed, removed or inserted out of order.', q('min(cortexops_audit_chain_valid)', 'verified')),
      timeseries('Service CPU', 'percentunit', 'CPU seconds per second of each service process.', q(rate('cortexops_process_cpu_seconds_total', 'service'), '{{service}}')),
    ],
  },
];

const PANEL_HEIGHT = 8;
const REF_IDS = 'ABCDEFGHIJ';

function panel(spec: PanelSpec): cog.Builder<Panel> {
  const builder =
    spec.kind === 'stat'
      ? new StatPanelBuilder()
      : new TimeseriesPanelBuilder().legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom));
  builder.title(spec.title).description(spec.description).unit(spec.unit).datasource(DATASOURCE).height(PANEL_HEIGHT).span(spec.kind === 'stat' ? 6 : 12);
  spec.queries.forEach((q, i) => builder.withTarget(new DataqueryBuilder().refId(REF_IDS[i]!).expr(q.expr).legendFormat(q.legend).datasource(DATASOURCE)));
  return builder;
}

/** The overview dashboard (provisioned into Grafana by compose from deploy/grafana/dashboards/). */
export function overviewDashboard(): Dashboard {
  const builder = new DashboardBuilder('CortexOps overview')
    .uid('cortexops-overview')
    .tags(['cortexops'])
    .refresh('10s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser');
  for (const row of OVERVIEW_ROWS) {
    builder.withRow(new RowBuilder(row.title));
    for (const spec of row.panels) builder.withPanel(panel(spec));
  }
  return builder.build();
}

/** Every dashboard, by the file name it is written to under deploy/grafana/dashboards/. */
export const DASHBOARDS: Readonly<Record<string, () => Dashboard>> = {
  'cortexops-overview.json': overviewDashboard,
};

/** A dashboard as the file holds it (two-space JSON, a final newline). */
export function dashboardJson(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
