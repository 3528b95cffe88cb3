import OpenAI from 'openai';
import { MAX_EMBED_BATCH, MAX_EMBED_CHARS, type Embedder } from './embedder.js';
import { KNOWLEDGE_ERROR_CODES, KnowledgeError } from './errors.js';

export interface OpenAIEmbedderOptions {
  /** Any OpenAI-compatible API (`https://api.openai.com/v1`, vLLM's or Ollama's `/v1`). */
  readonly baseURL: string;
  readonly apiKey: string;
  /** e.g. `text-embedding-3-small`. */
  readonly model: string;
  /** The model's output dimension (`text-embedding-3-small`: 1536); answers of another length are refused. */
  readonly dimension: number;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
}

/** Embeddings from an OpenAI-compatible API (`POST /embeddings`), checked: one finite vector of the dimension per text. */
export class OpenAIEmbedder implements Embedder {
  readonly id: string;

  private constructor(
    private readonly client: OpenAI,
    private readonly model: string,
    readonly dimension: number,
  ) {
    this.id = `openai-${model}`;
  }

  static create(options: OpenAIEmbedderOptions): OpenAIEmbedder {
    let url: URL;
    try {
      url = new URL(options.baseURL);
    } catch {
      throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, 'embedding base URL is not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, `embedding base URL must be http(s), got ${url.protocol}`);
    if (!/^[A-Za-z0-9._:/-]{1,128}$/.test(options.model)) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, 'embedding model must be 1-128 of A-Z, a-z, 0-9, ".", "_", ":", "/", "-"');
    if (!Number.isInteger(options.dimension) || options.dimension < 1 || options.dimension > 8192) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, 'embedding dimension must be an integer in [1, 8192]');
    const client = new OpenAI({ baseURL: options.baseURL, apiKey: options.apiKey, timeout: options.timeoutMs ?? 10_000, maxRetries: 1 });
    return new OpenAIEmbedder(client, options.model, options.dimension);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += MAX_EMBED_BATCH) out.push(...(await this.embedBatch(texts.slice(i, i + MAX_EMBED_BATCH))));
    return out;
  }

  private async embedBatch(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    let response: OpenAI.Embeddings.CreateEmbeddingResponse;
    try {
      response = await this.client.embeddings.create({ model: this.model, input: texts.map((t) => t.slice(0, MAX_EMBED_CHARS) || ' '), encoding_format: 'float' });
    } catch (error) {
      throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.unavailable, `embeddings from ${this.model}: ${(error as Error).message.slice(0, 300)}`, { cause: error });
    }
    const data: unknown = response.data;
    if (!Array.isArray(data) || data.length !== texts.length) {
      throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.badResponse, `embeddings from ${this.model}: ${Array.isArray(data) ? data.length : 'no'} vectors for ${texts.length} texts`);
    }
    const vectors: Float32Array[] = new Array<Float32Array>(texts.length);
    for (const item of data as { index?: unknown; embedding?: unknown }[]) {
      const { index, embedding } = item;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= texts.length || vectors[index] !== undefined) {
        throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.badResponse, `embeddings from ${this.model}: index ${String(index)} is not one of the texts asked, or repeated`);
      }
      if (!Array.isArray(embedding) || embedding.length !== this.dimension || !embedding.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.badResponse, `embeddings from ${this.model}: vector ${index} is not ${this.dimension} finite numbers`);
      }
      vectors[index] = Float32Array.from(embedding as number[]);
    }
    return vectors;
  }

  async close(): Promise<void> {
    // Nothing held open.
  }
}
