import { METRICS, METRIC_PREFIX } from '@cortexops/contracts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface StandardMetrics {
  readonly eventsIngested: Counter<'source' | 'outcome'>;
  readonly correlationLatency: Histogram;
  readonly workflows: Counter<'outcome'>;
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
    eventsIngested: new Counter({ name: METRICS.eventsIngestedTotal, help: 'Telemetry events by source and outcome', labelNames: ['source', 'outcome'], registers }),
    correlationLatency: new Histogram({
      name: METRICS.correlationLatencySeconds,
      help: 'Time from a signal being received to its incident decision',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    workflows: new Counter({ name: METRICS.workflowsTotal, help: 'Remediation workflows by outcome', labelNames: ['outcome'], registers }),
    llmTokens: new Counter({ name: METRICS.llmTokensTotal, help: 'LLM tokens used, by kind', labelNames: ['kind'], registers }),
    dependencyUp: new Gauge({ name: METRICS.dependencyUp, help: '1 when the dependency answered its last health check', labelNames: ['dependency'], registers }),
    dependencyCheckSeconds: new Histogram({
      name: METRICS.dependencyCheckSeconds,
      help: 'Latency of dependency health checks',
      labelNames: ['dependency'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2],
      registers,
    }),
  };
  return { registry, metrics };
}
