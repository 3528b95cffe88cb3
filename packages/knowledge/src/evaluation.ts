/** One labelled incident of the evaluation set (`data/labelled-incidents.jsonl`). */
export interface LabelledIncident {
  readonly id: string;
  /** The kind of failure, the label "same kind of incident" is judged by. */
  readonly kind: string;
  readonly title: string;
  readonly signals: readonly string[];
}

/**
 * Precision@k of "same kind" by leave-one-out: each item is a query against all the others; `score(i, j)` is how
 * similar item j is to query i (higher: more). Ties are broken by position, so the result is deterministic.
 */
export function precisionAtK(labels: readonly string[], k: number, score: (query: number, candidate: number) => number): number {
  let sum = 0;
  for (let q = 0; q < labels.length; q++) {
    const ranked = labels
      .map((_, j) => j)
      .filter((j) => j !== q)
      .map((j) => ({ j, s: score(q, j) }))
      .sort((a, b) => b.s - a.s || a.j - b.j)
      .slice(0, k);
    sum += ranked.filter(({ j }) => labels[j] === labels[q]).length / k;
  }
  return sum / labels.length;
}

/** What a random ranking scores on average: the share of other items of the query's kind, averaged over queries. */
export function randomPrecision(labels: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return labels.reduce((s, l) => s + ((counts.get(l) ?? 1) - 1) / (labels.length - 1), 0) / labels.length;
}
