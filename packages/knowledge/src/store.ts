import { createHash } from 'node:crypto';
import { KNOWLEDGE_ERROR_CODES, KnowledgeError } from './errors.js';

/** What a point is: a finished incident, or a chunk of a runbook. */
export type PointType = 'incident' | 'runbook';

/** The payload fields both stores index and filter on (absent: the point has no such field). */
export const FILTER_FIELDS = ['type', 'cluster', 'namespace', 'kind', 'action', 'outcome'] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

/** Exact matches on indexed fields; every given field must match. */
export type SearchFilter = Partial<Record<FilterField, string>>;

export interface PointPayload {
  /** The caller's stable key (`incident:<id>`, `runbook:<file>#<n>`); the point id derives from it. */
  readonly key: string;
  readonly type: PointType;
  readonly cluster?: string;
  readonly namespace?: string;
  /** The incident kind (`oom-killed` ...) or, for a runbook, the action it describes. */
  readonly kind?: string;
  readonly action?: string;
  readonly outcome?: string;
  /** The text that was embedded. */
  readonly text: string;
  /** The record itself (JSON). */
  readonly document: Readonly<Record<string, unknown>>;
}

export interface VectorPoint {
  readonly vector: readonly number[] | Float32Array;
  readonly payload: PointPayload;
}

export interface SearchHit {
  /** Cosine similarity, -1..1 (1: same direction). */
  readonly score: number;
  readonly payload: PointPayload;
}

export interface SearchOptions {
  readonly limit: number;
  readonly filter?: SearchFilter;
}

/**
 * The contract both vector stores keep (Qdrant, and the embedded default in PostgreSQL): cosine similarity, points
 * keyed by a stable key (a second upsert of a key replaces the first), exact filters on the indexed payload fields.
 */
export interface VectorStore {
  /** `qdrant` or `postgres`. */
  readonly backend: string;
  readonly dimension: number;
  upsert(points: readonly VectorPoint[]): Promise<void>;
  search(vector: readonly number[] | Float32Array, options: SearchOptions): Promise<SearchHit[]>;
  /** The payload stored under `key`, if any. */
  get(key: string): Promise<PointPayload | undefined>;
  count(filter?: SearchFilter): Promise<number>;
  delete(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export const MAX_SEARCH_LIMIT = 100;

/** A point id both stores accept (Qdrant wants a UUID): the key's SHA-256 shaped as a version-5-style UUID. */
export function pointId(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  const variant = ((Number.parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16).padStart(2, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** Checks a vector's length and values; throws {@link KnowledgeError} `badVector`. */
export function checkVector(vector: readonly number[] | Float32Array, dimension: number): void {
  if (vector.length !== dimension) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.badVector, `vector has ${vector.length} dimensions, the store ${dimension}`);
  let norm = 0;
  for (const x of vector) {
    if (!Number.isFinite(x)) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.badVector, 'vector has a value that is not a finite number');
    norm += x * x;
  }
  if (norm === 0) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.badVector, 'vector is all zeros (no direction to compare by cosine)');
}

export function checkSearchOptions(options: SearchOptions): void {
  if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_SEARCH_LIMIT) {
    throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, `limit must be an integer in [1, ${MAX_SEARCH_LIMIT}], got ${String(options.limit)}`);
  }
  for (const field of Object.keys(options.filter ?? {})) {
    if (!(FILTER_FIELDS as readonly string[]).includes(field)) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, `filter field ${field} is not one of ${FILTER_FIELDS.join(', ')}`);
  }
}

export function checkDimension(dimension: number): void {
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 8192) {
    throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, `dimension must be an integer in [1, 8192], got ${String(dimension)}`);
  }
}
