import { diagnosisSchema, LLM_FALLBACK_REASONS, type RemediationOutcome } from '@cortexops/contracts';
import { ensureServers, installEmbeddingModel, OpenAIStub, type ChatReply } from '@cortexops/testkit';
import { join } from 'node:path';
import pg from 'pg';
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
    // The newest test's workload first: an older one's name may appear among the similar past incidents.
    for (const [workload, reply] of [...replies].reverse()) if (text.includes(workload)) return reply;
    return { status: 500 };
  };
  const ctx = await ensureServers(['postgres']);
  const modelDir = await installEmbeddingModel(ctx);
  h = await RemediationHarness.start('advisor', {
    workerEnv: {
      // Incident memory: the embedded store in the test's database, the local model.
      CORTEXOPS_EMBEDDING_MODEL_DIR: modelDir,
      CORTEXOPS_RUNBOOKS_DIR: join(ctx.repoRoot, 'deploy', 'runbooks'),
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
  const diagnosed = trail.find((r) => r.kind === 'diagnosis.completed')!;
  type Payload = {
    plan: { source: string; rule?: string; rationale: string; actions: { memory?: string }[]; trackRecord?: unknown };
    origin: string;
    fallback?: { reason: string };
    similar: { incidentId: string; score: number; action: string | null; outcome: string }[];
    similarFrom?: string;
  };
  return {
    handle,
    incidentId,
    payload: proposed.payload as Payload,
    // The diagnosis as audited, read against its contract.
    diagnosis: diagnosisSchema.parse(diagnosed.payload['diagnosis']),
    planningMs: Date.parse(proposed.occurredAt) - Date.parse(planning.occurredAt),
  };
}

/** The incident memory points of the test's database (the embedded store). */
async function remembered(incidentId: string): Promise<{ outcome: string; kind: string; action: string | null }[]> {
  const client = new pg.Client({ connectionString: h.database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ outcome: string; kind: string; action: string | null }>('SELECT outcome, kind, action FROM knowledge_points WHERE key = $1 AND vector IS NOT NULL', [`incident:${incidentId}`]);
    return rows;
  } finally {
    await client.end();
  }
}

let cartIncident = '';

describe('worker — PLANNING through the LLM advisor', () => {
  it('advisor — the model answers a valid plan: its origin is the model, its rationale audited, and the remediation applies it to RESOLVED', async () => {
    replies.set('cart', { content: proposal(h.namespace, 'cart', '2Gi'), usage: { prompt_tokens: 1000, completion_tokens: 100 } });
    const { handle, payload, incidentId } = await planned('cart');
    cartIncident = incidentId;
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
    // The workflow wrote the finished incident to incident memory, once, keyed by its id.
    expect(await remembered(incidentId)).toEqual([{ outcome: 'resolved', kind: 'oom-killed', action: 'raise-memory-limit' }]);
  });

  it("diagnosis — DIAGNOSING attaches the most similar past incidents: the resolved OOM remembered before is in the new OOM incident's diagnosis (audit entry, workflow state) with its outcome, and planning uses that list", async () => {
    replies.set('shelf', { status: 503 });
    const { handle, incidentId, payload, diagnosis } = await planned('shelf');
    // Only the first test's incident is in memory (this one is left out of its own search).
    expect(diagnosis.similar).toHaveLength(1);
    const [past] = diagnosis.similar!;
    expect(past!.incident).toMatchObject({ incidentId: cartIncident, incidentKind: 'oom-killed', outcome: 'resolved', action: { type: 'raise-memory-limit', name: 'cart', memory: '2Gi' } });
    expect(past!.incident.timeToResolveMs).toBeGreaterThan(0);
    expect(past!.score).toBeGreaterThan(0.5);
    expect(past!.score).toBeLessThanOrEqual(1);
    // Small: what the memory's record says of its signals, diagnosis and rationale stays in the memory.
    expect(Object.keys(past!.incident).sort()).toEqual(['action', 'incidentId', 'incidentKind', 'outcome', 'timeToResolveMs', 'title']);
    // The workflow's state (the remediationState query, what the Temporal UI shows) carries the same diagnosis.
    expect((await h.view(handle)).diagnosis?.similar).toEqual(diagnosis.similar);
    // Planning took the diagnosis's list instead of asking the memory again.
    expect(payload.similarFrom).toBe('diagnosis');
    expect(payload.similar).toEqual([{ incidentId: cartIncident, score: past!.score, action: 'raise-memory-limit', outcome: 'resolved' }]);
    const messages = stub.callsTo('/chat/completions').at(-1)?.body['messages'] as { content: string }[];
    expect(messages.map((m) => m.content).join('\n')).toContain(`"similarPastIncidents":[{"similarity":${past!.score},"title":`);
    // Ended (and remembered) before the next test: what that one finds in memory does not depend on timing.
    const outcome = (await handle.result()) as RemediationOutcome;
    expect(outcome.state, outcome.outcome).toBe('RESOLVED');
    expect(await remembered(incidentId)).toEqual([{ outcome: 'resolved', kind: 'oom-killed', action: 'raise-memory-limit' }]);
  });

  it('advisor — the model answers past the timeout: the heuristic plan within the timeout, saying why, and the remediation goes on', async () => {
    replies.set('basket', { content: proposal(h.namespace, 'basket', '2Gi'), delayMs: LLM_TIMEOUT_MS * 4 });
    const { handle, payload, planningMs } = await planned('basket');
    expect(payload.origin).toBe('heuristic');
    expect(payload.fallback?.reason).toBe(LLM_FALLBACK_REASONS.timeout);
    expect(payload.plan.source).toBe('heuristic');
    expect(payload.plan.actions[0]?.memory).toBe('1536Mi');
    expect(payload.plan.rationale).toContain('LLM advisor not used: timeout');
    // Incident memory: the resolved OOMs of the tests before (cart, shelf) are the most similar, shown to the model and counted.
    expect(payload.similar).toContainEqual(expect.objectContaining({ incidentId: cartIncident, outcome: 'resolved' }));
    expect(payload.similar).toHaveLength(2);
    const messages = stub.callsTo('/chat/completions').at(-1)?.body['messages'] as { content: string }[];
    expect(messages.map((m) => m.content).join('\n')).toMatch(/"similarPastIncidents":\[\{"similarity":[0-9.]+,"title":"[^"]*","kind":"oom-killed","action":"raise-memory-limit","outcome":"resolved"\}/);
    expect(payload.plan.trackRecord).toEqual({ incidentKind: 'oom-killed', resolved: 2, total: 2 });
    // The runbook sections of deploy/runbooks closest to the incident are in the prompt too.
    expect(messages.map((m) => m.content).join('\n')).toMatch(/"runbooks":\[\{"heading":"[^"]+","text":/);
    // Not blocked: the plan came within the timeout plus the activity's own work, not after the stub's answer.
    expect(planningMs).toBeLessThan(LLM_TIMEOUT_MS * 4);
    await expect.poll(async () => (await h.view(handle)).history.map((s) => s.state), WAIT).toContain('APPLYING');
  });

  it('advisor — the model server fails (HTTP 503): the heuristic plan at once, saying why, and the remediation goes on', async () => {
    replies.set('drawer', { status: 503 });
    const { handle, payload } = await planned('drawer');
    expect(payload.origin).toBe('heuristic');
    expect(payload.fallback?.reason).toBe(LLM_FALLBACK_REASONS.error);
    expect(payload.plan.actions[0]?.memory).toBe('1536Mi');
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

describe('worker — DIAGNOSING with incident memory unreadable', () => {
  it('diagnosis — the memory fails (its table gone): the diagnosis is made and audited without similar incidents, a warning names the incident, and planning goes on', async () => {
    // Every earlier workflow has ended (and written its incident): none writes to memory while it is away.
    await expect
      .poll(async () => {
        let running = 0;
        for await (const _ of h.client.workflow.list({ query: "ExecutionStatus = 'Running'" })) running++;
        return running;
      }, WAIT)
      .toBe(0);
    const client = new pg.Client({ connectionString: h.database.url });
    await client.connect();
    await client.query('ALTER TABLE knowledge_points RENAME TO knowledge_points_away');
    try {
      replies.set('ledger', { status: 503 });
      const { incidentId, payload, diagnosis } = await planned('ledger');
      // Diagnosed as ever (the pod, its limit), only without the similar incidents: no field, not an empty list.
      expect(diagnosis.pods).toHaveLength(1);
      expect(diagnosis.live?.containers[0]?.memoryLimit).toBe('1Gi');
      expect(diagnosis).not.toHaveProperty('similar');
      const warnings = h.worker
        .output()
        .split('\n')
        .filter((line) => line.includes('incident memory: similar incidents unreadable') && line.includes(incidentId));
      // One from the diagnosis, one from planning asking again (the diagnosis had none); a retried activity may add more.
      expect(warnings.length).toBeGreaterThanOrEqual(2);
      expect(warnings[0]).toContain('knowledge_points');
      expect(payload.similarFrom).toBe('planning');
      expect(payload.similar).toEqual([]);
      expect(payload.plan.actions[0]?.memory).toBe('1536Mi');
    } finally {
      await client.query('ALTER TABLE knowledge_points_away RENAME TO knowledge_points');
      await client.end();
    }
  });
});
