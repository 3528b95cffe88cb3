import { LLM_FALLBACK_REASONS } from '@cortexops/contracts';
import { OpenAIStub } from '../../openai.js';
import { ChaosEnvironment, type DeploymentJson } from '../environment.js';
import type { Scenario } from '../runner.js';

/** The advisor's per-request budget in this scenario: a dead provider may cost planning at most about this. */
const LLM_TIMEOUT_MS = 3_000;
/** PLANNING → DRY_RUNNING within this, or the dead provider blocked the plan. */
const PLANNING_BUDGET_MS = 15_000;
const WORKLOADS = ['basket', 'wishlist'] as const;

/**
 * The LLM provider down: the worker is configured with an OpenAI-compatible provider (a local server speaking its
 * wire format) that answers every chat completion 503. Two incidents: each is planned by the heuristics (the fallback
 * reason audited with the plan), planning is not held up, both are remediated and RESOLVED.
 */
export const llmProviderDown: Scenario = {
  name: 'llm-provider-down',
  title: 'the LLM provider down: heuristic plans, nothing blocked',
  timeoutMs: 240_000,
  async run(ctx) {
    const provider = await OpenAIStub.start();
    ctx.defer(() => provider.stop());
    provider.chat = () => ({ status: 503 });
    const env = await ChaosEnvironment.start(ctx, 'llm', {
      workerEnv: { CORTEXOPS_LLM_BASE_URL: provider.baseURL, CORTEXOPS_LLM_API_KEY: 'sk-chaos-provider-down', CORTEXOPS_LLM_TIMEOUT_MS: String(LLM_TIMEOUT_MS) },
    });
    ctx.step(`LLM provider at ${provider.baseURL} answers every chat completion 503`);

    const runs: { name: string; before: DeploymentJson; handle: Awaited<ReturnType<ChaosEnvironment['workflowOf']>> }[] = [];
    for (const name of WORKLOADS) {
      const { before, handle } = await env.oomIncident(name, '1Gi');
      runs.push({ name, before, handle });
    }
    const allowed = new Set<string>([LLM_FALLBACK_REASONS.error, LLM_FALLBACK_REASONS.timeout, LLM_FALLBACK_REASONS.circuitOpen]);
    for (const { name, before, handle } of runs) {
      const view = await env.finalView(handle);
      ctx.check(`${name}: RESOLVED`, view.state === 'RESOLVED', view.outcome);
      ctx.check(`${name}: the plan is the heuristics'`, view.plan?.source === 'heuristic', `${view.plan?.source ?? '?'}, rule ${view.plan?.rule ?? '?'}`);
      const proposed = (await env.trail(handle.workflowId.replace(/^incident-/, ''))).find((r) => r.kind === 'plan.proposed');
      const reported = proposed?.payload['fallback'] as { reason?: unknown; detail?: unknown } | undefined;
      const fallback = typeof reported?.reason === 'string' ? reported.reason : 'none';
      ctx.check(`${name}: audit: fallback because the provider failed`, allowed.has(fallback), `fallback ${fallback}: ${typeof reported?.detail === 'string' ? reported.detail : ''}`);
      const at = (state: string) => Date.parse(view.history.find((h) => h.state === state)?.at ?? '');
      const planning = at('DRY_RUNNING') - at('PLANNING');
      ctx.check(`${name}: planning not blocked`, planning >= 0 && planning < PLANNING_BUDGET_MS, `${(planning / 1000).toFixed(1)} s`);
      await env.checkAppliedOnce(handle, name, before, '1536Mi');
    }
    const asked = provider.callsTo('/chat/completions').length;
    ctx.check('the provider was really asked (and failed)', asked > 0, `${asked} chat completion requests answered 503`);
    await env.checkChainVerifies();
    ctx.conclude(`provider answering 503 (${asked} requests): ${WORKLOADS.length} incidents planned by the heuristics (fallback audited), planning not held up, both RESOLVED and applied once; chain verifies`);
  },
};
