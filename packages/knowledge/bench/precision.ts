/**
 * Precision@3 for "same kind of incident" on the labelled set (data/labelled-incidents.jsonl), leave-one-out: the local
 * embedding model against the BM25 lexical baseline and a random ranking. `pnpm --filter @cortexops/knowledge eval`.
 */
import { createStackContext, installEmbeddingModel } from '@cortexops/testkit';
import { Bm25Index, LocalEmbedder, embedIncidents, incidentText, loadLabelledIncidents, precisionAtK, randomPrecision } from '../src/index.js';

const K = 3;
const incidents = loadLabelledIncidents();
const labels = incidents.map((i) => i.kind);
const texts = incidents.map(incidentText);

const embedder = await LocalEmbedder.create({ modelDir: await installEmbeddingModel(createStackContext()) });
const started = performance.now();
const vectors = await embedIncidents(embedder, incidents);
const whole = await embedder.embed(texts);
const embedMs = performance.now() - started;
await embedder.close();
const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);
const model = precisionAtK(labels, K, (q, c) => cosine(vectors[q]!, vectors[c]!));
const modelWhole = precisionAtK(labels, K, (q, c) => cosine(whole[q]!, whole[c]!));

const bm25 = new Bm25Index(texts);
const lexicalScores = texts.map((t) => bm25.scores(t));
const lexical = precisionAtK(labels, K, (q, c) => lexicalScores[q]![c]!);

const kinds = new Set(labels);
process.stdout.write(`labelled set: ${incidents.length} incidents, ${kinds.size} kinds; embedding them (lines, then whole texts) took ${embedMs.toFixed(0)} ms\n\n`);
process.stdout.write(`| ranking | precision@${K} |\n|---|---|\n`);
for (const [name, value] of [
  [`local model (${embedder.id}), mean of line vectors (what memory stores)`, model],
  [`local model, one vector of the whole text`, modelWhole],
  ['BM25 (lexical baseline)', lexical],
  ['random (expected)', randomPrecision(labels)],
] as const) {
  process.stdout.write(`| ${name} | ${value.toFixed(3)} |\n`);
}
process.stdout.write('\nper kind (model / BM25):\n');
for (const kind of kinds) {
  const idx = labels.map((l, i) => (l === kind ? i : -1)).filter((i) => i >= 0);
  const per = (score: (q: number, c: number) => number) =>
    idx.reduce((s, q) => {
      const ranked = labels.map((_, j) => j).filter((j) => j !== q).sort((a, b) => score(q, b) - score(q, a) || a - b).slice(0, K);
      return s + ranked.filter((j) => labels[j] === kind).length / K;
    }, 0) / idx.length;
  process.stdout.write(`  ${kind.padEnd(20)} ${per((q, c) => cosine(vectors[q]!, vectors[c]!)).toFixed(3)} / ${per((q, c) => lexicalScores[q]![c]!).toFixed(3)}\n`);
}
