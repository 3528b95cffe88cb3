import { METRICS, METRIC_PREFIX } from '@cortexops/contracts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface StandardMetrics {
  readonly eventsIngested: Counter<'source' | 'outcome'>;
  readonly correlationLatency: Histogram;
  /** Set by the worker when a remediation workflow ends. */
  readonly workflows: Counter<'outcome'>;
  /** Set by the correlator for every signal it decides. */
  readonly correlatorDecisions: Counter<'decision' | 'workflow'>;
  readonly llmTokens: Counter<'kind'>;
  readonly dependencyUp: Gauge<'dependency'>;
  readonly dependencyCheckSeconds: Histogram<'dependency'>;
}

export interface MetricsRegistry {
  readonly registry: Registry;
  readonly metrics: StandardMetrics;
}

/** A registry per service, with process metrics and the metrics whose names the design fixes. */
export function createMetricsRegistry(service: string): MetricsRegistry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const registers = [registry];
  const metrics: StandardMetrics = {
    eventsIngested: new Counter({
      name: METRICS.eventsIngestedTotal,
      help: 'Telemetry events handled by ingestion, by source and outcome: accepted (published to SIGNALS), duplicate (not published again), rejected (dead-lettered, including bad webhook bodies), retried (handed back for redelivery)',
      labelNames: ['source', 'outcome'],
      registers,
    }),
    correlationLatency: new Histogram({
      name: METRICS.correlationLatencySeconds,
      help: 'Correlator: seconds from a decide slot taking a signal to its decision stored (parse, validate, group state read and compare-and-set write, engine); excludes time queued before the slot and the workflow call',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    workflows: new Counter({
      name: METRICS.workflowsTotal,
      help: 'Remediation workflows that ended, by outcome (the final state in lower case: resolved, rolled_back, escalated, denied, ...), counted by the worker',
      labelNames: ['outcome'],
      registers,
    }),
    correlatorDecisions: new Counter({
      name: METRICS.correlatorDecisionsTotal,
      help: 'Correlator decisions, by decision (open, attach, pending, deduplicated, resolve, flap, escalate, cooldown, held, duplicate, ignored) and workflow: what became of the workflow call the decision made (none, delivered, already_closed)',
      labelNames: ['decision', 'workflow'],
      registers,
    }),
    llmTokens: new Counter({ name: METRICS.llmTokensTotal, help: 'LLM tokens used, by kind', labelNames: ['kind'], registers }),
    dependencyUp: new Gauge({ name: METRICS.dependencyUp, help: '1 when the dependency answered its last health check', labelNames: ['dependency'], registers }),
    dependencyCheckSeconds: new Histogram({
      name: METRICS.dependencyCheckSeconds,
      help: 'Seconds a dependency health check took, by dependency',
      labelNames: ['dependency'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2],
      registers,
    }),
  };
  return { registry, metrics };
}
