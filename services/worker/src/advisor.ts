import { LlmAdvisor } from '@cortexops/advisor';
import type { ServiceConfig } from '@cortexops/config';
import { LLM_REQUEST_OUTCOMES } from '@cortexops/contracts';
import type { GatewayBounds } from '@cortexops/k8s';
import type { ServiceContext } from '@cortexops/observability';

/** Where the advisor asks when only a key is configured. */
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/**
 * PLANNING's advisor from the worker's configuration. The LLM is asked only when both its base URL and its key are
 * configured; otherwise (the local stack, CI) every plan is the heuristics', counted as fallback `no-api-key`. Its
 * metrics are registered on the service's registry at start (the fallback reasons, request outcomes and both token kinds at 0), so
 * /metrics has samples before the first plan.
 */
export function createAdvisor(config: ServiceConfig<'worker'>, context: ServiceContext, bounds: GatewayBounds): { advisor: LlmAdvisor; enabled: boolean } {
  const enabled = config.llmBaseUrl !== undefined && config.llmApiKey !== undefined;
  const advisor = LlmAdvisor.create(
    {
      baseURL: config.llmBaseUrl ?? DEFAULT_BASE_URL,
      apiKey: enabled ? config.llmApiKey : undefined,
      model: config.llmModel,
      timeoutMs: config.llmTimeoutMs,
      maxCompletionTokens: config.llmMaxCompletionTokens,
      tokensPerIncident: config.llmTokensPerIncident,
      tokensPerHour: config.llmTokensPerHour,
      circuitThreshold: config.llmCircuitThreshold,
      circuitCoolDownMs: config.llmCircuitCoolDownMs,
      bounds,
    },
    { registry: context.registry, tokensCounter: context.metrics.llmTokens },
  );
  for (const kind of ['prompt', 'completion']) context.metrics.llmTokens.inc({ kind }, 0);
  for (const outcome of LLM_REQUEST_OUTCOMES) advisor.metrics.requests.inc({ outcome }, 0);
  advisor.metrics.circuitOpen.set(0);
  return { advisor, enabled };
}
