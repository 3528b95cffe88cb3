import { LLM_FALLBACK_REASONS, type RemediationOutcome } from '@cortexops/contracts';
import { OpenAIStub, type ChatReply } from '@cortexops/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemediationHarness, WAIT } from './harness.js';

/**
 * PLANNING through the LLM advisor, end to end: a kubelet event on SIGNALS, the correlator and the worker as processes,
 * the worker's advisor pointed at a local server speaking OpenAI's chat-completions wire format. One harness (and one
 * worker) for the file; each test answers for its own workload.
 */
let h: RemediationHarness;
let stub: OpenAIStub;
/** How the stub answers a request that names `workload` (each test deploys its own). */
const replies = new Map<string, ChatReply>();

/** The advisor's timeout in these tests: a slow answer costs the plan this much at most. */
const LLM_TIMEOUT_MS = 1500;

beforeAll(async () => {
  stub = await OpenAIStub.start();
  stub.chat = (request) => {
    const text = JSON.stringify(request.messages);
    for (const [workload, reply] of replies) if (text.includes(workload)) return reply;
    return { status: 500 };
  };
  h = await RemediationHarness.start('advisor', {
    workerEnv: {
      CORTEXOPS_LLM_BASE_URL: stub.baseURL,
      CORTEXOPS_LLM_API_KEY: 'sk-test-advisor',
      CORTEXOPS_LLM_MODEL: 'stub-model',
      CORTEXOPS_LLM_TIMEOUT_MS: String(LLM_TIMEOUT_MS),
      // The slow case must not open the circuit for the others.
      CORTEXOPS_LLM_CIRCUIT_THRESHOLD: '10',
    },
  });
}, 300_000);

afterAll(async () => {
  await h?.dispose();
  await stub?.stop();
});

const proposal = (namespace: string, name: string, memory: string) =>
  JSON.stringify({
    action: { type: 'raise-memory-limit', kind: 'Deployment', namespace, name, container: 'app', memory, replicas: null },
    risk: 'low',
    rationale: 'The container was OOM-killed at its 1Gi limit; similar incidents were resolved by 2Gi.',
    checks: [{ template: 'workload-container-restarts', op: '<', threshold: 1 }],
  });

/** Starts an OOM incident on a fresh one-pod Deployment and returns its workflow once planned. */
async function planned(workload: string) {
  const { pods } = await h.deploy({ name: workload, memory: '1Gi' });
  const signal = h.signal(workload, pods[0]!.name, 'OOMKilling');
  await h.publish(signal);
  const handle = await h.workflowOf(signal);
  const incidentId = RemediationHarness.incidentIdOf(handle);
  await expect.poll(async () => (await h.trail(incidentId)).some((r) => r.kind === 'plan.proposed'), WAIT).toBe(true);
  const trail = await h.trail(incidentId);
  const proposed = trail.find((r) => r.kind === 'plan.proposed')!;
  const planning = trail.find((r) => r.kind === 'workflow.state' && r.payload['to'] === 'PLANNING')!;
  return { handle, incidentId, payload: proposed.payload as { plan: { source: string; rule?: string; rationale: string; actions: { memory?: string }[] }; origin: string; fallback?: { reason: string } }, planningMs: Date.parse(proposed.occurredAt) - Date.parse(planning.occurredAt) };
}

describe('worker — PLANNING through the LLM advisor', () => {
  it('advisor — the model answers a valid plan: its origin is the model, its rationale audited, and the remediation applies it to RESOLVED', async () => {
    replies.set('cart', { content: proposal(h.namespace, 'cart', '2Gi'), usage: { prompt_tokens: 1000, completion_tokens: 100 } });
    const { handle, payload } = await planned('cart');
    expect(payload.origin).toBe('llm');
    expect(payload.plan.source).toBe('llm');
    expect(payload.plan.rule).toBe('llm:stub-model');
    expect(payload.plan.rationale).toContain('resolved by 2Gi');
    const outcome = (await handle.result()) as RemediationOutcome;
    expect(outcome.state, outcome.outcome).toBe('RESOLVED');
    expect((await h.deployment('cart')).spec.template.spec.containers[0]?.resources?.limits?.memory).toBe('2Gi');
    const metrics = await (await fetch(`${h.worker.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/cortexops_llm_tokens_total\{kind="prompt"[^}]*\} ([1-9]\d*)/);
    expect(metrics).toMatch(/cortexops_llm_requests_total\{outcome="ok"[^}]*\} [1-9]/);
  });

  it('advisor — the model answers past the timeout: the heuristic plan within the timeout, saying why, and the remediation goes on', async () => {
    replies.set('basket', { content: proposal(h.namespace, 'basket', '2Gi'), delayMs: LLM_TIMEOUT_MS * 4 });
    const { handle, payload, planningMs } = await planned('basket');
    expect(payload.origin).toBe('heuristic');
    expect(payload.fallback?.reason).toBe(LLM_FALLBACK_REASONS.timeout);
    expect(payload.plan.source).toBe('heuristic');
    expect(payload.plan.actions[0]?.memory).toBe('1536Mi');
    expect(payload.plan.rationale).toContain('LLM advisor not used: timeout');
    // Not blocked: the plan came within the timeout plus the activity's own work, not after the stub's answer.
    expect(planningMs).toBeLessThan(LLM_TIMEOUT_MS * 4);
    await expect.poll(async () => (await h.view(handle)).history.map((s) => s.state), WAIT).toContain('APPLYING');
  });

  it('advisor — the model proposes a change in another namespace: refused by the guard, the heuristics plan, nothing outside the incident changes', async () => {
    replies.set('wishlist', { content: proposal('payments', 'wishlist', '2Gi') });
    const { handle, payload } = await planned('wishlist');
    expect(payload.origin).toBe('heuristic');
    expect(payload.fallback?.reason).toBe(LLM_FALLBACK_REASONS.guardRefused);
    expect(payload.plan.rationale).toContain('target-not-allowed');
    expect(payload.plan.actions[0]).toMatchObject({ namespace: h.namespace, name: 'wishlist', memory: '1536Mi' });
    await expect.poll(async () => (await h.view(handle)).history.map((s) => s.state), WAIT).toContain('APPLYING');
    const metrics = await (await fetch(`${h.worker.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/cortexops_llm_fallbacks_total\{reason="guard-refused"[^}]*\} [1-9]/);
  });
});
