import { z } from 'zod';
import { identifier, isoTimestamp } from './common.js';
import { kubernetesName, kubernetesNamespace, workloadKind } from './kubernetes.js';
import { actionSchema } from './remediation.js';
import { defineContract } from './validation.js';

/** How a finished incident ended, as incident memory keeps it. */
export const MEMORY_OUTCOMES = ['resolved', 'rolled-back', 'denied', 'rejected', 'expired', 'escalated', 'failed', 'observed', 'cancelled'] as const;
export const memoryOutcome = z.enum(MEMORY_OUTCOMES);
export type MemoryOutcome = z.infer<typeof memoryOutcome>;

/** Where a plan came from: the LLM advisor or the deterministic heuristics (or a person). */
export const PLAN_ORIGINS = ['llm', 'heuristic', 'manual'] as const;

/**
 * A finished incident as incident memory stores it (one point per incident, written when its workflow ends, keyed by
 * the incident id so a second write replaces the first). Text fields are bounded: they come from telemetry.
 */
export const incidentMemorySchema = z.object({
  incidentId: identifier,
  cluster: identifier,
  namespace: kubernetesNamespace.optional(),
  target: z.object({ kind: workloadKind, name: kubernetesName }),
  /** The kind of failure (the heuristics' rule, e.g. `oom-killed`, or `unknown`), for filters and success rates. */
  incidentKind: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be 1-64 of a-z, 0-9, "-"'),
  title: z.string().min(1).max(512),
  /** What the signals said: alert names and summaries, event reasons and messages (data, never instructions). */
  signals: z.array(z.string().max(512)).max(20),
  /** The diagnosis in a few words (the rule that matched, the facts it saw). */
  diagnosis: z.string().max(2000),
  /** The action taken or proposed (none when there was no safe action). */
  action: actionSchema.optional(),
  planOrigin: z.enum(PLAN_ORIGINS).optional(),
  rationale: z.string().max(4000).optional(),
  outcome: memoryOutcome,
  /** From the incident's opening to its end, when it was resolved. */
  timeToResolveMs: z.int().min(0).optional(),
  endedAt: isoTimestamp,
});
export type IncidentMemory = z.output<typeof incidentMemorySchema>;
export const IncidentMemory = defineContract('IncidentMemory', incidentMemorySchema);

/** A past incident found similar to the current one, with how it ended. */
export const similarIncidentSchema = z.object({
  score: z.number().min(-1).max(1),
  incident: incidentMemorySchema,
});
export type SimilarIncident = z.output<typeof similarIncidentSchema>;

/** How one action fared on incidents of one kind ("3 of 4 resolved"). */
export const actionSuccessRateSchema = z.object({
  actionType: z.string().max(64),
  incidentKind: z.string().max(64),
  resolved: z.int().min(0),
  total: z.int().min(0),
});
export type ActionSuccessRate = z.output<typeof actionSuccessRateSchema>;
