/** Turns texts into vectors of one fixed dimension; the same text always gives the same vector. */
export interface Embedder {
  /** Names the model (stores keep one collection per embedder: vectors of two models are not comparable). */
  readonly id: string;
  readonly dimension: number;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** Most texts one call embeds (callers with more split them). */
export const MAX_EMBED_BATCH = 256;
/** Characters of one text kept (telemetry is bounded before it is embedded). */
export const MAX_EMBED_CHARS = 8192;
