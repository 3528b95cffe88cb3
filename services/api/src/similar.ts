import { diagnosisSchema, type SimilarIncidentSummary } from '@cortexops/contracts';

/** One similar past incident in words: its id, the score to two decimals, the action taken, how it ended. */
export function similarIncidentText(similar: SimilarIncidentSummary): string {
  return `${similar.incident.incidentId} (score ${similar.score.toFixed(2)}, ${similar.incident.action?.type ?? 'no action'}, ${similar.incident.outcome})`;
}

/**
 * The similar past incidents of a diagnosis as the audit trail holds it (any shape: older or hostile records): the
 * list when it reads against its contract, undefined when there is none or it does not read.
 */
export function similarIncidentsOf(diagnosis: unknown): SimilarIncidentSummary[] | undefined {
  if (typeof diagnosis !== 'object' || diagnosis === null) return undefined;
  const parsed = diagnosisSchema.shape.similar.safeParse((diagnosis as Record<string, unknown>)['similar']);
  return parsed.success ? parsed.data : undefined;
}

/** What a diagnosis says of similar past incidents, in one line; empty when incident memory attached nothing. */
export function similarIncidentsLine(similar: readonly SimilarIncidentSummary[] | undefined): string {
  if (similar === undefined) return '';
  return similar.length === 0 ? 'no similar past incident in memory' : `similar past incidents: ${similar.map(similarIncidentText).join(', ')}`;
}
