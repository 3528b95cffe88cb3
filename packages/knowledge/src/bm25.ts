/** Lowercase word tokens (letters and digits), one-letter tokens dropped: what the lexical baseline compares. */
export function lexicalTokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 1);
}

export interface Bm25Options {
  /** Term-frequency saturation (default 1.2). */
  readonly k1?: number;
  /** Length normalisation (default 0.75). */
  readonly b?: number;
}

/**
 * Okapi BM25 over a fixed set of documents (the lexical baseline the embedding model is measured against): each
 * query term scores `idf · tf·(k1+1) / (tf + k1·(1 − b + b·len/avglen))`, idf = ln(1 + (N − df + 0.5)/(df + 0.5)).
 */
export class Bm25Index {
  private readonly docs: Map<string, number>[];
  private readonly lengths: number[];
  private readonly df = new Map<string, number>();
  private readonly avgLength: number;
  private readonly k1: number;
  private readonly b: number;

  constructor(texts: readonly string[], options: Bm25Options = {}) {
    this.k1 = options.k1 ?? 1.2;
    this.b = options.b ?? 0.75;
    this.docs = texts.map((text) => {
      const tf = new Map<string, number>();
      for (const t of lexicalTokens(text)) tf.set(t, (tf.get(t) ?? 0) + 1);
      for (const t of tf.keys()) this.df.set(t, (this.df.get(t) ?? 0) + 1);
      return tf;
    });
    this.lengths = this.docs.map((tf) => [...tf.values()].reduce((s, n) => s + n, 0));
    this.avgLength = this.lengths.reduce((s, n) => s + n, 0) / Math.max(1, this.lengths.length);
  }

  /** The score of every document for the query, in document order. */
  scores(query: string): number[] {
    const n = this.docs.length;
    const terms = [...new Set(lexicalTokens(query))];
    return this.docs.map((tf, i) => {
      let score = 0;
      for (const term of terms) {
        const f = tf.get(term);
        if (f === undefined) continue;
        const df = this.df.get(term) ?? 0;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        score += (idf * f * (this.k1 + 1)) / (f + this.k1 * (1 - this.b + (this.b * (this.lengths[i] ?? 0)) / (this.avgLength || 1)));
      }
      return score;
    });
  }
}
