import { IncidentMemory as IncidentMemoryContract, type ActionSuccessRate, type IncidentMemory, type SimilarIncident } from '@cortexops/contracts';
import type { Embedder } from './embedder.js';
import { KNOWLEDGE_ERROR_CODES, KnowledgeError } from './errors.js';
import { embedIncidents, incidentText, type IncidentDescription } from './incident-text.js';
import type { RunbookChunk } from './runbooks.js';
import type { VectorStore } from './store.js';

/** Outcomes of incidents where the action was applied and judged (denied, rejected, expired: it never ran). */
const APPLIED_OUTCOMES = ['resolved', 'rolled-back', 'failed'] as const;

export interface SimilarQuery extends IncidentDescription {
  /** Left out of the answer (the incident asking). */
  readonly excludeIncidentId?: string;
  readonly limit?: number;
}

function description(record: IncidentMemory): IncidentDescription {
  return { title: record.title, signals: record.signals, diagnosis: record.diagnosis };
}

/**
 * Incident memory over one embedder and one vector store: each finished incident is one point (key
 * `incident:<id>`, written again when the same incident ends again), runbook chunks are points of type `runbook`.
 * Success rates per action and incident kind are counts over the stored incidents.
 */
export class IncidentMemoryStore {
  private constructor(
    private readonly store: VectorStore,
    private readonly embedder: Embedder,
  ) {}

  static create(options: { store: VectorStore; embedder: Embedder }): IncidentMemoryStore {
    if (options.store.dimension !== options.embedder.dimension) {
      throw new KnowledgeError(
        KNOWLEDGE_ERROR_CODES.dimensionMismatch,
        `the store holds ${options.store.dimension}-dimension vectors, the embedder ${options.embedder.id} makes ${options.embedder.dimension}`,
      );
    }
    return new IncidentMemoryStore(options.store, options.embedder);
  }

  /** Stores a finished incident (validated; the same incident id replaces its earlier point). */
  async remember(record: IncidentMemory): Promise<void> {
    const parsed = IncidentMemoryContract.validate(record);
    if (!parsed.ok) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.invalidOptions, parsed.error.message);
    const r = parsed.value;
    const [vector] = await embedIncidents(this.embedder, [description(r)]);
    if (vector === undefined) throw new KnowledgeError(KNOWLEDGE_ERROR_CODES.badResponse, 'the embedder returned no vector');
    await this.store.upsert([
      {
        vector,
        payload: {
          key: `incident:${r.incidentId}`,
          type: 'incident',
          cluster: r.cluster,
          ...(r.namespace ? { namespace: r.namespace } : {}),
          kind: r.incidentKind,
          ...(r.action ? { action: r.action.type } : {}),
          outcome: r.outcome,
          text: incidentText(description(r)),
          document: r,
        },
      },
    ]);
  }

  /** The past incidents most like this one, best first, with how they ended. */
  async similar(query: SimilarQuery): Promise<SimilarIncident[]> {
    const limit = query.limit ?? 3;
    const [vector] = await embedIncidents(this.embedder, [query]);
    if (vector === undefined) return [];
    const hits = await this.store.search(vector, { limit: Math.min(100, limit + 1), filter: { type: 'incident' } });
    return hits
      .filter((h) => h.payload.key !== `incident:${query.excludeIncidentId ?? ''}`)
      .slice(0, limit)
      .flatMap((h) => {
        const parsed = IncidentMemoryContract.validate(h.payload.document);
        return parsed.ok ? [{ score: Math.max(-1, Math.min(1, h.score)), incident: parsed.value }] : [];
      });
  }

  /** How `actionType` fared on incidents of `incidentKind`: resolved out of those where it was applied. */
  async successRate(actionType: string, incidentKind: string): Promise<ActionSuccessRate> {
    const counts = await Promise.all(APPLIED_OUTCOMES.map((outcome) => this.store.count({ type: 'incident', kind: incidentKind, action: actionType, outcome })));
    return { actionType, incidentKind, resolved: counts[0] ?? 0, total: counts.reduce((s, n) => s + n, 0) };
  }

  /** Indexes runbook chunks (idempotent: a chunk's key is its file and position). */
  async indexRunbooks(chunks: readonly RunbookChunk[]): Promise<void> {
    if (chunks.length === 0) return;
    const vectors = await embedIncidents(
      this.embedder,
      chunks.map((c) => ({ title: c.heading, signals: [c.text] })),
    );
    await this.store.upsert(
      chunks.map((c, i) => ({
        vector: vectors[i] ?? new Float32Array(this.embedder.dimension),
        payload: { key: `runbook:${c.id}`, type: 'runbook', ...(c.action ? { action: c.action } : {}), text: c.text, document: { ...c } },
      })),
    );
  }

  /** The runbook chunks closest to an incident (optionally of one action), best first. */
  async runbooks(query: IncidentDescription & { action?: string; limit?: number }): Promise<RunbookChunk[]> {
    const [vector] = await embedIncidents(this.embedder, [query]);
    if (vector === undefined) return [];
    const hits = await this.store.search(vector, { limit: query.limit ?? 3, filter: { type: 'runbook', ...(query.action ? { action: query.action } : {}) } });
    return hits.map((h) => h.payload.document as unknown as RunbookChunk);
  }
}

