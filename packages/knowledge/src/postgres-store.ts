import pg from 'pg';
import { KNOWLEDGE_ERROR_CODES, KnowledgeError } from './errors.js';
import { ExactIndex, unitVector } from './exact-index.js';
import { migrate } from './migrate.js';
import {
  FILTER_FIELDS,
  checkDimension,
  checkSearchOptions,
  checkVector,
  type PointPayload,
  type SearchFilter,
  type SearchHit,
  type SearchOptions,
  type VectorPoint,
  type VectorStore,
} from './store.js';

export interface PostgresStoreOptions {
  readonly pool: pg.Pool;
  readonly collection: string;
  readonly dimension: number;
  /** Live points kept per collection; the oldest writes beyond it are pruned (default 100,000). */
  readonly maxPoints?: number;
}

export const DEFAULT_MAX_POINTS = 100_000;
const MAX_MAX_POINTS = 1_000_000;
/** Rows per INSERT (10 parameters each, under PostgreSQL's 65,535). */
const UPSERT_BATCH = 1000;

function toBytes(unit: Float32Array): Buffer {
  return Buffer.from(unit.buffer, unit.byteOffset, unit.byteLength);
}

function fromBytes(bytes: Buffer, dimension: number): Float32Array {
  if (bytes.byteLength !== dimension * 4) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.badVector, `stored vector has ${bytes.byteLength} bytes, not ${dimension * 4}`);
  // A copy: the row's buffer may be a slice at any offset of a larger one.
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

interface PointRow {
  key: string;
  revision: string;
  vector: Buffer | null;
  payload: PointPayload | null;
}

/**
 * The embedded default vector store: points in a PostgreSQL table (bounded per collection), searched exactly in the
 * process over an in-memory copy that catches up with the table before each search (rows written since the last
 * revision it saw, tombstones for deletes, everything below the table's oldest revision dropped after a prune).
 */
export class PostgresStore implements VectorStore {
  readonly backend = 'postgres';
  private readonly index = new ExactIndex();
  private seen = 0;
  /** The table's oldest revision at the last catch-up. */
  private oldest = 0;

  private constructor(
    private readonly pool: pg.Pool,
    readonly collection: string,
    readonly dimension: number,
    readonly maxPoints: number,
  ) {}

  static async create(options: PostgresStoreOptions): Promise<PostgresStore> {
    checkDimension(options.dimension);
    const maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
    if (!Number.isInteger(maxPoints) || maxPoints < 1 || maxPoints > MAX_MAX_POINTS) {
      throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, `maxPoints must be an integer in [1, ${MAX_MAX_POINTS}], got ${String(maxPoints)}`);
    }
    if (options.collection.length === 0 || options.collection.length > 128) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, 'collection name must be 1-128 characters');
    try {
      await migrate(options.pool);
      await options.pool.query('INSERT INTO knowledge_collections (name, dimension, max_points) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET max_points = $3', [
        options.collection,
        options.dimension,
        maxPoints,
      ]);
      const { rows } = await options.pool.query<{ dimension: number }>('SELECT dimension FROM knowledge_collections WHERE name = $1', [options.collection]);
      if (rows[0]?.dimension !== options.dimension) {
        throw new KnowledgeError(
          KNOWLEDGE_ERROR_CODES.dimensionMismatch,
          `collection ${options.collection} holds ${String(rows[0]?.dimension)}-dimension vectors, not ${options.dimension} (another embedder's collection?)`,
        );
      }
    } catch (error) {
      if (error instanceof KnowledgeError) throw error;
      throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.unavailable, `PostgreSQL: ${(error as Error).message}`, { cause: error });
    }
    return new PostgresStore(options.pool, options.collection, options.dimension, maxPoints);
  }

  private async run<R extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, values);
    } catch (error) {
      throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.unavailable, `PostgreSQL: ${(error as Error).message}`, { cause: error });
    }
  }

  async upsert(points: readonly VectorPoint[]): Promise<void> {
    if (points.length === 0) return;
    for (const p of points) checkVector(p.vector, this.dimension);
    for (let i = 0; i < points.length; i += UPSERT_BATCH) await this.insert(points.slice(i, i + UPSERT_BATCH));
    await this.prune();
  }

  private async insert(points: readonly VectorPoint[]): Promise<void> {
    const columns = ['key', ...FILTER_FIELDS, 'vector', 'payload'];
    const values: unknown[] = [this.collection];
    // The last write of a key in one batch wins, as in Qdrant.
    const latest = [...new Map(points.map((p) => [p.payload.key, p])).values()];
    const tuples = latest.map((p) => {
      const row = [p.payload.key, ...FILTER_FIELDS.map((f) => p.payload[f] ?? null), toBytes(unitVector(p.vector)), JSON.stringify(p.payload)];
      const at = values.length;
      values.push(...row);
      return `($1, ${row.map((_, i) => `$${at + i + 1}`).join(', ')})`;
    });
    await this.run(
      `INSERT INTO knowledge_points (collection, ${columns.join(', ')}) VALUES ${tuples.join(', ')}
       ON CONFLICT (collection, key) DO UPDATE SET ${columns.slice(1).map((c) => `${c} = EXCLUDED.${c}`).join(', ')},
         revision = nextval('knowledge_points_revision'), updated_at = now()`,
      values,
    );
  }

  /** Keeps at most `maxPoints` live points: every row at or below the revision of the newest one beyond goes. */
  private async prune(): Promise<void> {
    await this.run(
      `DELETE FROM knowledge_points WHERE collection = $1 AND revision <= (
         SELECT revision FROM knowledge_points WHERE collection = $1 AND vector IS NOT NULL ORDER BY revision DESC OFFSET $2 LIMIT 1)`,
      [this.collection, this.maxPoints],
    );
  }

  /** Brings the in-memory copy up to date with the table. */
  private async sync(): Promise<void> {
    const { rows } = await this.run<PointRow>(
      'SELECT key, revision, vector, payload FROM knowledge_points WHERE collection = $1 AND revision > $2 ORDER BY revision',
      [this.collection, this.seen],
    );
    for (const row of rows) {
      const revision = Number(row.revision);
      if (row.vector === null || row.payload === null) this.index.remove(row.key);
      else this.index.put(row.key, revision, fromBytes(row.vector, this.dimension), row.payload);
      this.seen = Math.max(this.seen, revision);
    }
    const { rows: oldest } = await this.run<{ min: string | null }>('SELECT min(revision) AS min FROM knowledge_points WHERE collection = $1', [this.collection]);
    const min = oldest[0]?.min === null || oldest[0] === undefined ? this.seen + 1 : Number(oldest[0].min);
    // Only a prune moves the oldest revision up; a scan of the copy is needed only then.
    if (min > this.oldest) this.index.dropBefore(min);
    this.oldest = min;
  }

  async search(vector: readonly number[] | Float32Array, options: SearchOptions): Promise<SearchHit[]> {
    checkVector(vector, this.dimension);
    checkSearchOptions(options);
    await this.sync();
    return this.index.search(unitVector(vector), options.limit, options.filter);
  }

  async get(key: string): Promise<PointPayload | undefined> {
    const { rows } = await this.run<{ payload: PointPayload | null }>('SELECT payload FROM knowledge_points WHERE collection = $1 AND key = $2', [this.collection, key]);
    return rows[0]?.payload ?? undefined;
  }

  async count(filter?: SearchFilter): Promise<number> {
    checkSearchOptions({ limit: 1, filter });
    const entries = Object.entries(filter ?? {});
    const where = entries.map(([field], i) => `AND ${pg.escapeIdentifier(field)} = $${i + 2}`).join(' ');
    const { rows } = await this.run<{ n: string }>(`SELECT count(*) AS n FROM knowledge_points WHERE collection = $1 AND vector IS NOT NULL ${where}`, [
      this.collection,
      ...entries.map(([, v]) => v),
    ]);
    return Number(rows[0]?.n ?? 0);
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.run(
      `UPDATE knowledge_points SET vector = NULL, payload = NULL, revision = nextval('knowledge_points_revision'), updated_at = now()
       WHERE collection = $1 AND key = ANY($2::text[]) AND vector IS NOT NULL`,
      [this.collection, keys],
    );
  }

  /** Deletes the collection and its points (tests, re-indexing under another embedder). */
  async drop(): Promise<void> {
    await this.run('DELETE FROM knowledge_collections WHERE name = $1', [this.collection]);
  }

  async close(): Promise<void> {
    // The pool belongs to the caller.
  }
}
