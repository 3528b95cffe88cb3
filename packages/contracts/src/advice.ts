/**
 * Why a plan came from the heuristics although the LLM advisor is configured (the plan's rationale says which; the
 * advisor counts each in `cortexops_llm_fallbacks_total{reason}`).
 */
export const LLM_FALLBACK_REASONS = {
  /** No API key configured: the advisor is off. */
  noApiKey: 'no-api-key',
  /** Too many recent failures: no calls until the circuit's cool-down has passed. */
  circuitOpen: 'circuit-open',
  /** The incident's or the hour's token budget is spent. */
  budgetExhausted: 'budget-exhausted',
  /** No answer within the timeout. */
  timeout: 'timeout',
  /** Transport or HTTP error. */
  error: 'error',
  /** The model refused to answer. */
  refusal: 'refusal',
  /** The answer is not the structured proposal asked for (not JSON, unknown action, raw PromQL, extra fields ...). */
  invalidOutput: 'invalid-output',
  /** The proposal became a plan that the guard refused (another namespace, out of bounds, understated risk ...). */
  guardRefused: 'guard-refused',
} as const;
export type LlmFallbackReason = (typeof LLM_FALLBACK_REASONS)[keyof typeof LLM_FALLBACK_REASONS];

/** Outcomes of one LLM chat request (`cortexops_llm_requests_total{outcome}`). */
export const LLM_REQUEST_OUTCOMES = ['ok', 'timeout', 'error', 'refusal', 'invalid-output'] as const;

/** Metrics of the LLM advisor (beside the design's `cortexops_llm_tokens_total{kind}`). */
export const LLM_METRICS = {
  /** Chat requests by outcome (ok, timeout, error, refusal, invalid-output). */
  requestsTotal: 'cortexops_llm_requests_total',
  /** Seconds from sending a chat request to its answer (or failure), by outcome. */
  requestSeconds: 'cortexops_llm_request_duration_seconds',
  /** Plans that came from the heuristics although the advisor is configured, by reason. */
  fallbacksTotal: 'cortexops_llm_fallbacks_total',
  /** Estimated spend in US dollars from the API's token usage and the configured prices. */
  costUsdTotal: 'cortexops_llm_cost_usd_total',
  /** 1 while the circuit is open (calls skipped). */
  circuitOpen: 'cortexops_llm_circuit_open',
} as const;
