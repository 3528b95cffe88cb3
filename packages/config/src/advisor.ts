import { intVar, optionalSecretVar, optionalUrlVar, stringVar } from './env.js';

/**
 * The worker's LLM advisor (packages/advisor `LlmAdvisor`): any OpenAI-compatible chat API. Off until both the base
 * URL and the API key are set (the local stack and CI): every plan is then the deterministic heuristics' (fallback
 * reason `no-api-key`). Ollama and vLLM accept any key: set one to turn the advisor on.
 */
export const advisorSpec = {
  llmBaseUrl: optionalUrlVar('CORTEXOPS_LLM_BASE_URL', ['https', 'http'], 'OpenAI-compatible API the advisor asks (e.g. https://api.openai.com/v1, vLLM or Ollama /v1); unset: heuristics only'),
  llmApiKey: optionalSecretVar('CORTEXOPS_LLM_API_KEY', 1, 'API key of the LLM advisor; unset: heuristics only'),
  llmModel: stringVar('CORTEXOPS_LLM_MODEL', 'gpt-4o-mini', 'chat model the advisor asks for a structured plan'),
  llmTimeoutMs: intVar('CORTEXOPS_LLM_TIMEOUT_MS', 8000, 100, 120_000, 'one chat request; past it the heuristics answer'),
  llmMaxCompletionTokens: intVar('CORTEXOPS_LLM_MAX_COMPLETION_TOKENS', 800, 64, 16_000, 'completion tokens one request asks for at most'),
  llmTokensPerIncident: intVar('CORTEXOPS_LLM_TOKENS_PER_INCIDENT', 20_000, 1, 10_000_000, 'tokens (prompt + completion) one incident may use; then the heuristics answer'),
  llmTokensPerHour: intVar('CORTEXOPS_LLM_TOKENS_PER_HOUR', 200_000, 1, 1_000_000_000, 'tokens all requests may use in a rolling hour; then the heuristics answer'),
  llmCircuitThreshold: intVar('CORTEXOPS_LLM_CIRCUIT_THRESHOLD', 3, 1, 100, 'failed requests in a row that open the circuit (no requests for the cool-down)'),
  llmCircuitCoolDownMs: intVar('CORTEXOPS_LLM_CIRCUIT_COOLDOWN_MS', 60_000, 1, 3_600_000, 'how long the open circuit makes no requests'),
} as const;
