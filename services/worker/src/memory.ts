import type { ServiceConfig } from '@cortexops/config';
import { type IncidentMemory, type MemoryOutcome, type RememberIncidentRequest, type SimilarIncident, SimilarIncidentSummary, type WorkflowState, WORKLOAD_KINDS } from '@cortexops/contracts';
import { IncidentMemoryStore, loadRunbooks, LocalEmbedder, PostgresStore, QdrantStore, type IncidentDescription } from '@cortexops/knowledge';
import type { Logger } from '@cortexops/observability';
import type pg from 'pg';

/** One collection per embedder: another model's vectors never mix with these. */
const COLLECTION = 'incidents-all-minilm-l6-v2';

/**
 * The worker's incident memory from its configuration: the embedded store (PostgreSQL, the worker's own pool) or
 * Qdrant, over the local embedding model. Off when configured off or when there is no model directory; a memory that
 * cannot start is logged and left off — planning never depends on it.
 */
export async function createIncidentMemory(config: ServiceConfig<'worker'>, pool: pg.Pool, logger: Logger): Promise<IncidentMemoryStore | undefined> {
  if (config.incidentMemory === 'off') return undefined;
  if (config.embeddingModelDir === undefined) {
    logger.warn('incident memory off: CORTEXOPS_EMBEDDING_MODEL_DIR is not set');
    return undefined;
  }
  try {
    const embedder = await LocalEmbedder.create({ modelDir: config.embeddingModelDir });
    const store =
      config.incidentMemory === 'qdrant'
        ? await QdrantStore.create({ url: config.qdrantUrl ?? 'http://127.0.0.1:6333', collection: COLLECTION, dimension: embedder.dimension })
        : await PostgresStore.create({ pool, collection: COLLECTION, dimension: embedder.dimension });
    const memory = IncidentMemoryStore.create({ store, embedder });
    if (config.runbooksDir !== undefined) {
      // Idempotent (a chunk's key is its file and position); a runbook that cannot be read leaves the memory on.
      await memory.indexRunbooks(await loadRunbooks(config.runbooksDir)).catch((error: unknown) => logger.warn({ err: error, dir: config.runbooksDir }, 'runbooks not indexed'));
    }
    return memory;
  } catch (error) {
    logger.error({ err: error }, 'incident memory off: it could not start');
    return undefined;
  }
}

const OUTCOMES: Partial<Record<WorkflowState, MemoryOutcome>> = {
  RESOLVED: 'resolved',
  ROLLED_BACK: 'rolled-back',
  DENIED: 'denied',
  REJECTED: 'rejected',
  EXPIRED: 'expired',
  ESCALATED: 'escalated',
  FAILED: 'failed',
  OBSERVED: 'observed',
  CANCELLED: 'cancelled',
};

/** What incident memory embeds of an incident: its title, what the diagnosis saw (event reasons and messages, pods' last terminations). */
export function describeIncident(incident: RememberIncidentRequest['incident'], diagnosis: RememberIncidentRequest['diagnosis']): IncidentDescription {
  const events = (diagnosis?.events ?? []).map((e) => `${e.reason}: ${e.message}`.slice(0, 512));
  const pods = (diagnosis?.pods ?? []).flatMap((p) => (p.lastTerminationReason ? [`pod ${p.name} last terminated: ${p.lastTerminationReason}`] : []));
  return { title: incident.title, signals: [...events, ...pods].slice(0, 20) };
}

/**
 * A similar past incident as the diagnosis carries it: the contract keeps id, kind, title, action, outcome and time to
 * resolve of the memory's record (the rest is left out), the score to three decimals.
 */
export function similarSummary(hit: SimilarIncident): SimilarIncidentSummary {
  return SimilarIncidentSummary.parse({ score: Number(hit.score.toFixed(3)), incident: hit.incident });
}

/** The record of a finished workflow; undefined for a state that is not final or a target memory does not keep. */
export function memoryRecord(request: RememberIncidentRequest, incidentKind: string): IncidentMemory | undefined {
  const outcome = OUTCOMES[request.state];
  const { incident, plan } = request;
  const kind = incident.target.kind;
  if (outcome === undefined || !(WORKLOAD_KINDS as readonly string[]).includes(kind)) return undefined;
  const action = plan?.actions[0];
  const described = describeIncident(incident, request.diagnosis);
  return {
    incidentId: incident.id,
    cluster: incident.cluster,
    ...(incident.target.namespace ? { namespace: incident.target.namespace } : {}),
    target: { kind, name: incident.target.name },
    incidentKind,
    title: incident.title,
    signals: described.signals.slice(),
    diagnosis: (plan ? `${plan.rule ?? plan.source}: ${plan.rationale}` : 'no plan').slice(0, 2000),
    ...(action ? { action } : {}),
    ...(plan ? { planOrigin: plan.source, rationale: plan.rationale } : {}),
    outcome,
    ...(outcome === 'resolved' ? { timeToResolveMs: Math.max(0, Date.parse(request.endedAt) - Date.parse(incident.openedAt)) } : {}),
    endedAt: request.endedAt,
  };
}
