import { LLM_FALLBACK_REASONS, LLM_METRICS, METRICS } from '@cortexops/contracts';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface LlmMetrics {
  readonly tokens: Counter<'kind'>;
  readonly requests: Counter<'outcome'>;
  readonly requestSeconds: Histogram<'outcome'>;
  readonly fallbacks: Counter<'reason'>;
  readonly costUsd: Counter;
  readonly circuitOpen: Gauge;
}

/**
 * The advisor's metrics in `registry`. `cortexops_llm_tokens_total{kind}` is a standard metric of every service
 * (`@cortexops/observability`): pass that counter as `tokens` so it is not registered twice.
 */
export function createLlmMetrics(registry: Registry, tokens?: Counter<'kind'>): LlmMetrics {
  const registers = [registry];
  const fallbacks = new Counter({
    name: LLM_METRICS.fallbacksTotal,
    help: 'Plans that came from the deterministic heuristics although the LLM advisor is configured, by reason',
    labelNames: ['reason'],
    registers,
  });
  for (const reason of Object.values(LLM_FALLBACK_REASONS)) fallbacks.inc({ reason }, 0);
  return {
    tokens: tokens ?? new Counter({ name: METRICS.llmTokensTotal, help: 'LLM tokens used, by kind (prompt, completion), from the API usage', labelNames: ['kind'], registers }),
    requests: new Counter({ name: LLM_METRICS.requestsTotal, help: 'LLM chat requests by outcome (ok, timeout, error, refusal, invalid-output)', labelNames: ['outcome'], registers }),
    requestSeconds: new Histogram({
      name: LLM_METRICS.requestSeconds,
      help: 'Seconds from sending an LLM chat request to its answer or failure, by outcome',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32],
      registers,
    }),
    fallbacks,
    costUsd: new Counter({ name: LLM_METRICS.costUsdTotal, help: 'Estimated LLM spend in US dollars (API token usage × configured prices)', registers }),
    circuitOpen: new Gauge({ name: LLM_METRICS.circuitOpen, help: '1 while the LLM circuit is open (calls skipped after repeated failures)', registers }),
  };
}
