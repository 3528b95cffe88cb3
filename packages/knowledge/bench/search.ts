/**
 * Incident memory, measured in one run (each table against its same-run baseline):
 *  1. embedding throughput of the local model (lines of the labelled set), against BM25 scoring of the same lines;
 *  2. search latency (p50/p99, unfiltered and filtered) at 10k and 100k stored incidents, Qdrant and the embedded
 *     store in PostgreSQL side by side (random 384-dimension unit vectors from a fixed seed; payloads like the
 *     memory's; the embedded store's first search after the inserts loads its copy and is reported apart);
 *  3. what the LLM advisor adds to planning when the model answers at once (testkit's OpenAIStub), against the
 *     heuristics alone.
 *
 *   pnpm --filter @cortexops/knowledge bench [--sizes 10000,100000 --queries 200]
 */
import pg from 'pg';
import { Registry } from 'prom-client';
import { Command } from 'commander';
import { LlmAdvisor, planRemediation } from '@cortexops/advisor';
import { OpenAIStub, createStackContext, createTestDatabase, ensureServers, installEmbeddingModel, qdrantBinary, qdrantUrl, uniqueName } from '@cortexops/testkit';
import { Bm25Index, LocalEmbedder, PostgresStore, QdrantStore, incidentLines, loadLabelledIncidents, type VectorPoint, type VectorStore } from '../src/index.js';

const program = new Command('knowledge-bench')
  .option('--sizes <list>', 'stored incidents at which search is measured', (v) => v.split(',').map(Number), [10_000, 100_000])
  .option('--queries <n>', 'searches per measurement', (v) => Number.parseInt(v, 10), 200)
  .option('--advice <n>', 'plans per advisor scenario', (v) => Number.parseInt(v, 10), 200)
  .option('--stores <list>', 'stores measured (postgres, qdrant)', (v) => v.split(','), ['postgres', 'qdrant'])
  .parse();
const options = program.opts<{ sizes: number[]; queries: number; advice: number; stores: string[] }>();
const withQdrant = options.stores.includes('qdrant') && qdrantBinary(process.env) !== undefined;
const DIM = 384;

const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |\n`;
const out = (s: string) => process.stdout.write(s);
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
async function timings(n: number, run: (i: number) => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await run(i);
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b);
}

// ---- 1. embedding throughput ----------------------------------------------------------------------------------
const texts = loadLabelledIncidents().flatMap(incidentLines);
const embedder = await LocalEmbedder.create({ modelDir: await installEmbeddingModel(createStackContext()) });
await embedder.embed(texts.slice(0, 16));
let t0 = performance.now();
await embedder.embed(texts);
const embedSeconds = (performance.now() - t0) / 1000;
await embedder.close();
t0 = performance.now();
const bm25 = new Bm25Index(texts);
for (const t of texts) bm25.scores(t);
const bm25Seconds = (performance.now() - t0) / 1000;
out(`\nEmbedding (${texts.length} lines of the labelled set, one thread, batches of 16)\n\n`);
out(line(['scenario', 'lines', 'seconds', 'lines/s']) + line(['---', '---', '---', '---']));
out(line(['BM25 index + score every line (baseline)', String(texts.length), bm25Seconds.toFixed(3), (texts.length / bm25Seconds).toFixed(0)]));
out(line(['local model all-MiniLM-L6-v2 int8', String(texts.length), embedSeconds.toFixed(2), (texts.length / embedSeconds).toFixed(1)]));

// ---- 2. search at 10k and 100k ------------------------------------------------------------------------------------
let seed = 42;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const vector = () => Float32Array.from({ length: DIM }, () => random() * 2 - 1);
const KINDS = ['oom-killed', 'crash-loop', 'image-pull-failing', 'pods-unschedulable', 'node-not-ready', 'probe-failing', 'rollout-stuck', 'disk-pressure', 'config-missing'];
const point = (i: number): VectorPoint => ({
  vector: vector(),
  payload: { key: `incident:bench-${i}`, type: 'incident', cluster: `cluster-${i % 3}`, namespace: `ns-${i % 40}`, kind: KINDS[i % KINDS.length], action: 'rollout-restart', outcome: i % 4 === 0 ? 'rolled-back' : 'resolved', text: `incident ${i}`, document: { incidentId: `bench-${i}` } },
});
const queries = Array.from({ length: options.queries }, vector);

interface Backend {
  readonly name: string;
  readonly store: VectorStore;
  ready(): Promise<void>;
  dispose(): Promise<void>;
}
const ctx = await ensureServers(withQdrant ? ['postgres', 'qdrant'] : ['postgres']);
const db = await createTestDatabase(ctx, 'knowledge_bench');
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
const backends: Backend[] = [];
if (options.stores.includes('postgres')) {
  const store = await PostgresStore.create({ pool, collection: 'bench', dimension: DIM, maxPoints: 200_000 });
  backends.push({ name: 'embedded (PostgreSQL, exact in process)', store, ready: async () => {}, dispose: async () => {} });
}
if (withQdrant) {
  const q = await QdrantStore.create({ url: qdrantUrl(ctx), collection: uniqueName('bench'), dimension: DIM, timeoutMs: 120_000 });
  backends.push({
    name: 'Qdrant 1.18.3 (HNSW)',
    store: q,
    // Searches start once the collection is indexed (status green).
    ready: async () => {
      for (let i = 0; i < 600; i++) {
        const info = (await fetch(`${qdrantUrl(ctx)}/collections/${q.collection}`).then((r) => r.json())) as { result: { status: string } };
        if (info.result.status === 'green') return;
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    dispose: () => q.drop(),
  });
}
out(`\nSearch (top 3, ${options.queries} queries per row; filtered: type + kind, about 1/9 of the points)\n\n`);
out(line(['store', 'points', 'insert s (cumulative)', 'first search ms', 'p50 ms', 'p99 ms', 'filtered p50 ms', 'filtered p99 ms']) + line(Array(8).fill('---')));
try {
  for (const b of backends) {
    let stored = 0;
    let insertSeconds = 0;
    seed = 42;
    for (const size of options.sizes) {
      const t = performance.now();
      for (let i = stored; i < size; i += 1000) await b.store.upsert(Array.from({ length: Math.min(1000, size - i) }, (_, j) => point(i + j)));
      await b.ready();
      insertSeconds += (performance.now() - t) / 1000;
      stored = size;
      const f = performance.now();
      await b.store.search(queries[0]!, { limit: 3 });
      const first = performance.now() - f;
      const plain = await timings(queries.length, (i) => b.store.search(queries[i]!, { limit: 3 }));
      const filtered = await timings(queries.length, (i) => b.store.search(queries[i]!, { limit: 3, filter: { type: 'incident', kind: KINDS[i % KINDS.length]! } }));
      out(line([b.name, String(size), insertSeconds.toFixed(1), first.toFixed(0), percentile(plain, 50).toFixed(2), percentile(plain, 99).toFixed(2), percentile(filtered, 50).toFixed(2), percentile(filtered, 99).toFixed(2)]));
    }
  }
} finally {
  for (const b of backends) await b.dispose();
  await pool.end();
  await db.drop();
}

// ---- 3. what the advisor adds -------------------------------------------------------------------------------------
const now = '2026-11-30T10:00:00.000Z';
const target = { kind: 'Deployment' as const, namespace: 'shop', name: 'checkout' };
const input = {
  incident: { id: 'inc-bench', cluster: 'local', title: 'OOMKilling: Memory cgroup out of memory', severity: 'critical' as const, status: 'open' as const, target, fingerprints: ['f'], signalIds: [], flapCount: 0, openedAt: now, updatedAt: now },
  diagnosis: {
    target,
    live: { uid: 'u', replicas: 3, readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3, generation: 1, observedGeneration: 1, containers: [{ name: 'app', memoryLimit: '256Mi' }] },
    pods: [{ name: 'checkout-1', ready: true, restarts: 2, lastTerminationReason: 'OOMKilled' }],
    events: [{ reason: 'OOMKilling', message: 'Memory cgroup out of memory', count: 1, object: 'Pod/checkout-1' }],
    metrics: [],
    problems: [],
    observedAt: now,
  },
  now,
  settings: { maxMemory: '4Gi', verification: { stabilisationMs: 60_000, intervalMs: 15_000, count: 4, minSamples: 3 } },
};
const stub = await OpenAIStub.start();
const proposal = { action: { type: 'raise-memory-limit', kind: 'Deployment', namespace: 'shop', name: 'checkout', container: 'app', memory: '512Mi', replicas: null }, risk: 'low', rationale: 'more memory', checks: [] };
stub.chat = () => ({ content: JSON.stringify(proposal), usage: { prompt_tokens: 900, completion_tokens: 100 } });
const advisor = LlmAdvisor.create(
  { baseURL: stub.baseURL, apiKey: 'sk-bench', model: 'bench', bounds: { minReplicas: 1, maxReplicas: 20, maxMemory: '4Gi' }, tokensPerIncident: 10_000_000, tokensPerHour: 1_000_000_000 },
  { registry: new Registry() },
);
const offline = LlmAdvisor.create({ baseURL: stub.baseURL, model: 'bench', bounds: { minReplicas: 1, maxReplicas: 20, maxMemory: '4Gi' } }, { registry: new Registry() });
// Nothing listens on port 9 (discard) of loopback: every call is refused at once; the circuit opens after 3.
const unreachable = LlmAdvisor.create(
  { baseURL: 'http://127.0.0.1:9/v1', apiKey: 'sk-bench', model: 'bench', bounds: { minReplicas: 1, maxReplicas: 20, maxMemory: '4Gi' }, circuitCoolDownMs: 3_600_000 },
  { registry: new Registry() },
);
try {
  await timings(20, () => advisor.advise(input));
  const heuristics = await timings(options.advice, async () => planRemediation(input));
  const noKey = await timings(options.advice, () => offline.advise(input));
  const llm = await timings(options.advice, () => advisor.advise(input));
  const refusedFirst = await timings(3, () => unreachable.advise(input));
  const circuitOpen = await timings(options.advice, () => unreachable.advise(input));
  out(`\nPlanning (${options.advice} plans per row; the local server answers at once)\n\n`);
  out(line(['planner', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms']) + line(Array(5).fill('---')));
  const row = (name: string, ms: number[]) =>
    out(line([name, percentile(ms, 50).toFixed(2), percentile(ms, 99).toFixed(2), (percentile(ms, 50) - percentile(heuristics, 50)).toFixed(2), (percentile(ms, 99) - percentile(heuristics, 99)).toFixed(2)]));
  row('heuristics alone (baseline)', heuristics);
  row('advisor without a key (fallback)', noKey);
  row('advisor, model answering at once', llm);
  row('advisor, model unreachable (first 3 calls: connection refused)', refusedFirst);
  row('advisor, model unreachable (then: circuit open, no call)', circuitOpen);
} finally {
  await stub.stop();
}
