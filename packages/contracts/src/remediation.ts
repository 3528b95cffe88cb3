import { z } from 'zod';
import { identifier, isoTimestamp, riskLevel } from './common.js';
import { containerName, kubernetesName, kubernetesNamespace, memoryQuantity } from './kubernetes.js';
import { defineContract } from './validation.js';

const namespaced = { namespace: kubernetesNamespace, name: kubernetesName };

/** The action catalogue: the only changes CortexOps can make. */
export const actionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('rollout-restart'), kind: z.enum(['Deployment', 'StatefulSet']), ...namespaced }),
  z.object({ type: z.literal('scale'), kind: z.enum(['Deployment', 'StatefulSet']), ...namespaced, replicas: z.int().min(0).max(1000) }),
  z.object({ type: z.literal('rollback'), kind: z.literal('Deployment'), ...namespaced }),
  z.object({ type: z.literal('delete-pod'), kind: z.literal('Pod'), ...namespaced }),
  z.object({ type: z.literal('cordon-node'), kind: z.literal('Node'), name: kubernetesName }),
  z.object({ type: z.literal('uncordon-node'), kind: z.literal('Node'), name: kubernetesName }),
  z.object({
    type: z.literal('raise-memory-limit'),
    kind: z.enum(['Deployment', 'StatefulSet']),
    ...namespaced,
    container: containerName,
    memory: memoryQuantity,
  }),
]);
export type Action = z.output<typeof actionSchema>;
export type ActionType = Action['type'];
export const Action = defineContract('Action', actionSchema);
export const ACTION_TYPES: readonly ActionType[] = actionSchema.options.map((o) => o.shape.type.value);

/**
 * PromQL templates of CortexOps' safe builder (`@cortexops/prometheus`): a plan names a template and thresholds, never
 * raw PromQL; the query is rendered from the template and the plan's target with every label value escaped.
 */
export const PROMQL_TEMPLATES = [
  /** Available replicas over desired replicas of a Deployment or StatefulSet (kube-state-metrics); 1 when healthy. */
  'workload-available-ratio',
  /** Container restarts of the workload's pods over the last few minutes (kube-state-metrics). */
  'workload-container-restarts',
  /** Whether a node reports Ready (kube-state-metrics); 1 when ready. */
  'node-ready',
] as const;
export const promqlTemplate = z.enum(PROMQL_TEMPLATES);
export type PromqlTemplate = z.infer<typeof promqlTemplate>;

export const COMPARISONS = ['<', '<=', '>', '>=', '=='] as const;

const checkName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 of a-z, 0-9, "-"');

/** One check of a plan's verification, measured every interval. */
export const verificationCheckSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('promql'),
    name: checkName,
    template: promqlTemplate,
    /** The query as CortexOps rendered it when planning (shown to people; the measuring side renders it again and refuses a difference). */
    query: z.string().min(1).max(2000),
    /** A measurement succeeds when `value <op> threshold`. */
    successCondition: z.object({ op: z.enum(COMPARISONS), threshold: z.number().finite() }),
  }),
  /** The target's rollout has finished: observed generation current, every replica updated and available. */
  z.object({ type: z.literal('rollout'), name: checkName }),
]);
export type VerificationCheck = z.output<typeof verificationCheckSchema>;

/**
 * Verification after an apply (DESIGN.md, "Verification semantics"): after `stabilisationMs`, every check is measured
 * every `intervalMs`, `count` times. The run fails as soon as failures exceed `failureLimit`, is inconclusive when
 * inconclusive measurements exceed `inconclusiveLimit`, and succeeds only with at least `minSamples` successes.
 */
export const verificationSpecSchema = z
  .object({
    checks: z.array(verificationCheckSchema).min(1).max(8),
    stabilisationMs: z.int().min(0).max(3_600_000),
    intervalMs: z.int().min(100).max(600_000),
    count: z.int().min(1).max(100),
    failureLimit: z.int().min(0).max(100).default(0),
    inconclusiveLimit: z.int().min(0).max(100).default(0),
    minSamples: z.int().min(1).max(100),
  })
  .refine((v) => v.minSamples <= v.count, { path: ['minSamples'], message: 'must be at most count' });
export type VerificationSpec = z.output<typeof verificationSpecSchema>;

export const MEASUREMENT_OUTCOMES = ['success', 'failure', 'inconclusive'] as const;
export const measurementOutcome = z.enum(MEASUREMENT_OUTCOMES);
export type MeasurementOutcome = z.infer<typeof measurementOutcome>;

/** One round of measurements: each check's outcome; the round fails if any check failed, else is inconclusive if any was. */
export const measurementSchema = z.object({
  round: z.int().min(1),
  at: isoTimestamp,
  outcome: measurementOutcome,
  checks: z.array(
    z.object({
      name: checkName,
      outcome: measurementOutcome,
      /** The measured value; null when there was none (empty result, NaN, ±Inf, query error). */
      value: z.number().nullable(),
      detail: z.string().max(1000),
    }),
  ),
});
export type Measurement = z.output<typeof measurementSchema>;

export const verificationResultSchema = z.object({
  verdict: measurementOutcome,
  reason: z.string().max(2000),
  measurements: z.array(measurementSchema),
});
export type VerificationResult = z.output<typeof verificationResultSchema>;

/**
 * What to do about an incident. No action is a valid plan ("no safe action"): the workflow then escalates to a
 * human instead of guessing. A plan with actions carries its verification.
 */
export const remediationPlanSchema = z
  .object({
    incidentId: identifier,
    actions: z.array(actionSchema).max(5),
    rationale: z.string().min(1).max(4000),
    source: z.enum(['llm', 'heuristic', 'manual']),
    /** Which rule of the heuristics (or which advisor) produced it. */
    rule: z.string().min(1).max(128).optional(),
    risk: riskLevel,
    verification: verificationSpecSchema.optional(),
    createdAt: isoTimestamp,
    /** How the plan's action fared on past incidents of the same kind, from incident memory ("3 of 4 resolved"). */
    trackRecord: z.object({ incidentKind: z.string().max(64), resolved: z.int().min(0), total: z.int().min(0) }).optional(),
  })
  .refine((p) => p.actions.length === 0 || p.verification !== undefined, { path: ['verification'], message: 'is required when the plan has actions' });
export type RemediationPlan = z.output<typeof remediationPlanSchema>;
export const RemediationPlan = defineContract('RemediationPlan', remediationPlanSchema);
