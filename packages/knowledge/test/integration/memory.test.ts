import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentMemory } from '@cortexops/contracts';
import { createStackContext, installEmbeddingModel, REPO_ROOT } from '@cortexops/testkit';
import { IncidentMemoryStore, KNOWLEDGE_ERROR_CODES, LocalEmbedder, loadLabelledIncidents, loadRunbooks } from '../../src/index.js';
import { STORE_BACKENDS, codeOf, type StoreFixture } from './stores.js';

const labelled = loadLabelledIncidents();
const of = (kind: string) => labelled.filter((i) => i.kind === kind);

function record(i: (typeof labelled)[number], outcome: IncidentMemory['outcome'], action?: IncidentMemory['action']): IncidentMemory {
  return {
    incidentId: i.id,
    cluster: 'local',
    namespace: 'shop',
    target: { kind: 'Deployment', name: 'cart' },
    incidentKind: i.kind,
    title: i.title,
    signals: [...i.signals],
    diagnosis: `rule ${i.kind}`,
    ...(action ? { action, planOrigin: 'heuristic' as const, rationale: 'because' } : {}),
    outcome,
    endedAt: '2026-11-30T04:00:00Z',
  };
}
const raise = { type: 'raise-memory-limit' as const, kind: 'Deployment' as const, namespace: 'shop', name: 'cart', container: 'cart', memory: '384Mi' };
const restart = { type: 'rollout-restart' as const, kind: 'Deployment' as const, namespace: 'shop', name: 'cart' };

describe.each(STORE_BACKENDS)('incident memory — $name store, local model', (backend) => {
  let embedder: LocalEmbedder;
  let f: StoreFixture | undefined;
  beforeAll(async () => {
    embedder = await LocalEmbedder.create({ modelDir: await installEmbeddingModel(createStackContext()) });
  });
  afterAll(async () => {
    await embedder.close();
  });
  afterEach(async () => {
    await f?.dispose();
    f = undefined;
  });
  const open = async () => {
    f = await backend.open(embedder.dimension);
    return IncidentMemoryStore.create({ store: f.store, embedder });
  };

  it('memory — the most similar past incidents are of the same kind, with how they ended; the asking incident is left out', async () => {
    const memory = await open();
    const [oom1, oom2, oom3, oom4] = of('oom-killed');
    const others = [...of('image-pull-failing').slice(0, 2), ...of('node-not-ready').slice(0, 2), ...of('crash-loop').slice(0, 2)];
    await memory.remember(record(oom1!, 'resolved', raise));
    await memory.remember(record(oom2!, 'rolled-back', raise));
    await memory.remember(record(oom3!, 'resolved', raise));
    for (const o of others) await memory.remember(record(o, 'escalated'));
    const similar = await memory.similar({ title: oom4!.title, signals: oom4!.signals, limit: 3 });
    expect(similar.map((s) => s.incident.incidentKind)).toEqual(['oom-killed', 'oom-killed', 'oom-killed']);
    expect(similar.map((s) => s.incident.outcome).sort()).toEqual(['resolved', 'resolved', 'rolled-back']);
    expect(similar[0]!.score).toBeGreaterThanOrEqual(similar[2]!.score);
    const self = await memory.similar({ title: oom1!.title, signals: oom1!.signals, excludeIncidentId: oom1!.id, limit: 9 });
    expect(self.map((s) => s.incident.incidentId)).not.toContain(oom1!.id);
    expect(self).toHaveLength(8);
  });

  it('memory — the same incident written twice is one point holding the second outcome (idempotent)', async () => {
    const memory = await open();
    const [oom] = of('oom-killed');
    await memory.remember(record(oom!, 'escalated', raise));
    await memory.remember(record(oom!, 'resolved', raise));
    expect(await f!.store.count()).toBe(1);
    expect(await memory.successRate('raise-memory-limit', 'oom-killed')).toEqual({ actionType: 'raise-memory-limit', incidentKind: 'oom-killed', resolved: 1, total: 1 });
  });

  it('memory — success rate per action and kind counts only incidents where the action ran ("2 of 3 resolved")', async () => {
    const memory = await open();
    const ooms = of('oom-killed');
    const outcomes: IncidentMemory['outcome'][] = ['resolved', 'resolved', 'rolled-back', 'denied', 'expired'];
    for (const [i, outcome] of outcomes.entries()) await memory.remember(record(ooms[i]!, outcome, raise));
    await memory.remember(record(of('crash-loop')[0]!, 'failed', restart));
    expect(await memory.successRate('raise-memory-limit', 'oom-killed')).toEqual({ actionType: 'raise-memory-limit', incidentKind: 'oom-killed', resolved: 2, total: 3 });
    expect(await memory.successRate('rollout-restart', 'crash-loop')).toEqual({ actionType: 'rollout-restart', incidentKind: 'crash-loop', resolved: 0, total: 1 });
    expect(await memory.successRate('cordon-node', 'node-not-ready')).toEqual({ actionType: 'cordon-node', incidentKind: 'node-not-ready', resolved: 0, total: 0 });
  });

  it('memory — bad records are refused before anything is stored: not DNS names, a 10 kB title, an unknown outcome', async () => {
    const memory = await open();
    const good = record(of('oom-killed')[0]!, 'resolved', raise);
    for (const bad of [{ ...good, incidentId: 'Not An Id!' }, { ...good, title: 'x'.repeat(10_000) }, { ...good, outcome: 'great' }, { ...good, namespace: '../etc' }]) {
      expect(await codeOf(memory.remember(bad as IncidentMemory))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    }
    expect(await f!.store.count()).toBe(0);
  });

  it('memory — runbooks of deploy/runbooks are indexed by section; an OOM finds the memory runbook', async () => {
    const memory = await open();
    const chunks = await loadRunbooks(fileURLToPath(new URL('deploy/runbooks/', `file://${REPO_ROOT}/`)));
    await memory.indexRunbooks(chunks);
    await memory.indexRunbooks(chunks);
    expect(await f!.store.count({ type: 'runbook' })).toBe(chunks.length);
    const [oom] = of('oom-killed');
    const found = await memory.runbooks({ title: oom!.title, signals: oom!.signals, limit: 2 });
    expect(found[0]?.action).toBe('raise-memory-limit');
    const restartOnly = await memory.runbooks({ title: oom!.title, signals: oom!.signals, action: 'rollout-restart', limit: 5 });
    expect(restartOnly.every((c) => c.action === 'rollout-restart')).toBe(true);
  });

  it('memory — a store of another dimension than the embedder is refused', async () => {
    f = await backend.open(8);
    expect(() => IncidentMemoryStore.create({ store: f!.store, embedder })).toThrow(/8-dimension/);
  });
});
