import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tokenizers from '@huggingface/tokenizers';
import ort from 'onnxruntime-node';
import { MAX_EMBED_BATCH, MAX_EMBED_CHARS, type Embedder } from './embedder.js';
import { KNOWLEDGE_ERROR_CODES, KnowledgeError } from './errors.js';
import { unitVector } from './exact-index.js';

export interface LocalEmbedderOptions {
  /** Holds `model.onnx`, `tokenizer.json` and `tokenizer_config.json` (testkit's `installEmbeddingModel`). */
  readonly modelDir: string;
  /** Tokens per text, [CLS] and [SEP] included (all-MiniLM-L6-v2 was trained on 256). */
  readonly maxTokens?: number;
  /** Threads of one inference (default 1: the worker shares its cores). */
  readonly threads?: number;
  /** Texts per inference batch (default 16). */
  readonly batchSize?: number;
}

/**
 * What the embedder uses of @huggingface/tokenizers' `Tokenizer`. Its declaration files import their siblings without
 * extensions, which NodeNext resolution cannot follow, so the class is typed here by the two members used.
 */
interface TextTokenizer {
  encode(text: string): { ids: number[] };
}
const { Tokenizer } = tokenizers as unknown as { Tokenizer: new (tokenizerJson: object, tokenizerConfig: object) => TextTokenizer };

const CLS = 101;
const SEP = 102;

/**
 * The local sentence-embedding model, no network needed: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime-node, its own
 * WordPiece tokenizer (@huggingface/tokenizers), mean pooling over the attention mask, unit length — what
 * sentence-transformers computes for this model. 384 dimensions.
 */
export class LocalEmbedder implements Embedder {
  readonly id = 'all-minilm-l6-v2-int8';
  readonly dimension = 384;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: TextTokenizer,
    private readonly maxTokens: number,
    private readonly batchSize: number,
  ) {}

  static async create(options: LocalEmbedderOptions): Promise<LocalEmbedder> {
    const maxTokens = options.maxTokens ?? 256;
    const batchSize = options.batchSize ?? 16;
    const threads = options.threads ?? 1;
    if (!Number.isInteger(maxTokens) || maxTokens < 8 || maxTokens > 512) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, `maxTokens must be an integer in [8, 512]`);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_EMBED_BATCH) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, `batchSize must be an integer in [1, ${MAX_EMBED_BATCH}]`);
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, `threads must be an integer in [1, 64]`);
    try {
      const [json, config] = await Promise.all(['tokenizer.json', 'tokenizer_config.json'].map(async (f) => JSON.parse(await readFile(join(options.modelDir, f), 'utf8')) as object));
      const session = await ort.InferenceSession.create(join(options.modelDir, 'model.onnx'), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
      return new LocalEmbedder(session, new Tokenizer(json ?? {}, config ?? {}), maxTokens, batchSize);
    } catch (error) {
      throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, `cannot load the local embedding model from ${options.modelDir}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Token ids of one text: [CLS] ... [SEP], cut to maxTokens. */
  private ids(text: string): number[] {
    const { ids } = this.tokenizer.encode(text.slice(0, MAX_EMBED_CHARS));
    const inner = ids.filter((id) => id !== CLS && id !== SEP).slice(0, this.maxTokens - 2);
    return [CLS, ...inner, SEP];
  }

  /** One inference over texts already tokenized, padded to the longest of them. */
  private async embedBatch(encoded: readonly number[][]): Promise<Float32Array[]> {
    const length = Math.max(...encoded.map((e) => e.length));
    const n = encoded.length;
    const ids = new BigInt64Array(n * length);
    const mask = new BigInt64Array(n * length);
    encoded.forEach((e, row) => {
      e.forEach((id, col) => {
        ids[row * length + col] = BigInt(id);
        mask[row * length + col] = 1n;
      });
    });
    const feeds = {
      input_ids: new ort.Tensor('int64', ids, [n, length]),
      attention_mask: new ort.Tensor('int64', mask, [n, length]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(n * length), [n, length]),
    };
    const output = (await this.session.run(feeds)).last_hidden_state;
    if (output === undefined) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.badResponse, 'the model has no last_hidden_state output');
    const hidden = output.data as Float32Array;
    const d = this.dimension;
    // Mean pooling over the real tokens (the attention mask), then unit length.
    return encoded.map((e, row) => {
      const v = new Float32Array(d);
      for (let t = 0; t < e.length; t++) {
        const base = (row * length + t) * d;
        for (let k = 0; k < d; k++) v[k] = (v[k] ?? 0) + (hidden[base + k] ?? 0);
      }
      return unitVector(v);
    });
  }

  /** Texts are batched by token length (less padding), the vectors returned in the order of the texts. */
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const encoded = texts.map((t) => this.ids(t));
    const order = encoded.map((_, i) => i).sort((a, b) => (encoded[a]?.length ?? 0) - (encoded[b]?.length ?? 0));
    const out = new Array<Float32Array>(texts.length);
    for (let i = 0; i < order.length; i += this.batchSize) {
      const batch = order.slice(i, i + this.batchSize);
      const vectors = await this.embedBatch(batch.map((j) => encoded[j] ?? []));
      batch.forEach((j, b) => {
        out[j] = vectors[b] ?? new Float32Array(this.dimension);
      });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
