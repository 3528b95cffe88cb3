import { QdrantClient } from '@qdrant/js-client-rest';
import { KNOWLEDGE_ERROR_CODES, KnowledgeError } from './errors.js';
import {
  FILTER_FIELDS,
  checkDimension,
  checkSearchOptions,
  checkVector,
  pointId,
  type PointPayload,
  type SearchFilter,
  type SearchHit,
  type SearchOptions,
  type VectorPoint,
  type VectorStore,
} from './store.js';

export interface QdrantStoreOptions {
  /** REST URL, e.g. `http://127.0.0.1:6333`. */
  readonly url: string;
  readonly apiKey?: string;
  /** One collection per embedder: its name should say which (`cortexops-incidents-minilm-384`). */
  readonly collection: string;
  readonly dimension: number;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
}

const COLLECTION_NAME = /^[A-Za-z0-9_-]{1,128}$/;

function toFilter(filter: SearchFilter | undefined) {
  const must = Object.entries(filter ?? {}).map(([key, value]) => ({ key, match: { value } }));
  return must.length === 0 ? undefined : { must };
}

function unavailable(what: string, error: unknown): KnowledgeError {
  const detail = error instanceof Error ? error.message : String(error);
  return new KnowledgeError(KNOWLEDGE_ERROR_CODES.unavailable, `Qdrant ${what}: ${detail.slice(0, 300)}`, { cause: error });
}

/**
 * The Qdrant vector store (`@qdrant/js-client-rest`): a collection created idempotently with the embedder's dimension
 * and cosine distance, keyword payload indexes on every filter field, stable point ids derived from the caller's key.
 */
export class QdrantStore implements VectorStore {
  readonly backend = 'qdrant';

  private constructor(
    private readonly client: QdrantClient,
    readonly collection: string,
    readonly dimension: number,
  ) {}

  static async create(options: QdrantStoreOptions): Promise<QdrantStore> {
    checkDimension(options.dimension);
    if (!COLLECTION_NAME.test(options.collection)) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, `collection name must be 1-128 of A-Z, a-z, 0-9, "_", "-"`);
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, `Qdrant URL is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, `Qdrant URL must be http(s), got ${url.protocol}`);
    const client = new QdrantClient({ url: options.url, apiKey: options.apiKey, timeout: options.timeoutMs ?? 10_000, checkCompatibility: false });
    const store = new QdrantStore(client, options.collection, options.dimension);
    await store.ensureCollection();
    return store;
  }

  private async ensureCollection(): Promise<void> {
    try {
      const { exists } = await this.client.collectionExists(this.collection);
      if (!exists) {
        try {
          await this.client.createCollection(this.collection, { vectors: { size: this.dimension, distance: 'Cosine' } });
        } catch (error) {
          // Another replica created it between our check and our create: fine, it is checked below.
          if (!(await this.client.collectionExists(this.collection)).exists) throw error;
        }
      }
      const info = await this.client.getCollection(this.collection);
      const vectors = info.config.params.vectors as { size?: number; distance?: string } | undefined;
      if (vectors?.size !== this.dimension || vectors.distance !== 'Cosine') {
        throw new KnowledgeError(
          KNOWLEDGE_ERROR_CODES.dimensionMismatch,
          `Qdrant collection ${this.collection} holds ${String(vectors?.size)}-dimension ${String(vectors?.distance)} vectors, not ${this.dimension}-dimension Cosine (another embedder's collection?)`,
        );
      }
      const indexed = Object.keys(info.payload_schema);
      for (const field of FILTER_FIELDS.filter((f) => !indexed.includes(f))) {
        await this.client.createPayloadIndex(this.collection, { field_name: field, field_schema: 'keyword', wait: true });
      }
    } catch (error) {
      if (error instanceof KnowledgeError) throw error;
      throw unavailable(`collection ${this.collection}`, error);
    }
  }

  async upsert(points: readonly VectorPoint[]): Promise<void> {
    if (points.length === 0) return;
    for (const p of points) checkVector(p.vector, this.dimension);
    try {
      await this.client.upsert(this.collection, {
        wait: true,
        points: points.map((p) => ({ id: pointId(p.payload.key), vector: Array.from(p.vector), payload: { ...p.payload } })),
      });
    } catch (error) {
      throw unavailable('upsert', error);
    }
  }

  async search(vector: readonly number[] | Float32Array, options: SearchOptions): Promise<SearchHit[]> {
    checkVector(vector, this.dimension);
    checkSearchOptions(options);
    try {
      const hits = await this.client.search(this.collection, { vector: Array.from(vector), limit: options.limit, filter: toFilter(options.filter), with_payload: true });
      return hits.map((h) => ({ score: h.score, payload: h.payload as unknown as PointPayload }));
    } catch (error) {
      throw unavailable('search', error);
    }
  }

  async get(key: string): Promise<PointPayload | undefined> {
    try {
      const [point] = await this.client.retrieve(this.collection, { ids: [pointId(key)], with_payload: true });
      return point?.payload as PointPayload | undefined;
    } catch (error) {
      throw unavailable('retrieve', error);
    }
  }

  async count(filter?: SearchFilter): Promise<number> {
    checkSearchOptions({ limit: 1, filter });
    try {
      return (await this.client.count(this.collection, { filter: toFilter(filter), exact: true })).count;
    } catch (error) {
      throw unavailable('count', error);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.client.delete(this.collection, { wait: true, points: keys.map(pointId) });
    } catch (error) {
      throw unavailable('delete', error);
    }
  }

  /** A snapshot of the collection for backup (written under the server's snapshots path); returns its name. */
  async snapshot(): Promise<string> {
    try {
      const snapshot = await this.client.createSnapshot(this.collection, { wait: true });
      if (snapshot === null) throw new Error('no snapshot description returned');
      return snapshot.name;
    } catch (error) {
      throw unavailable('snapshot', error);
    }
  }

  /** Deletes the whole collection (tests, re-indexing under another embedder). */
  async drop(): Promise<void> {
    await this.client.deleteCollection(this.collection);
  }

  async close(): Promise<void> {
    // The REST client holds no connection of its own.
  }
}
