import { z } from 'zod';
import { identifier, isoTimestamp, riskLevel } from './common.js';
import { actionSchema } from './remediation.js';
import { defineContract } from './validation.js';

/** What the OPA gate is asked about one action. Counts are supplied by the caller. */
export const policyInputSchema = z.object({
  incidentId: identifier,
  cluster: identifier,
  environment: z.string().min(1).max(64),
  action: actionSchema,
  risk: riskLevel,
  dryRun: z.object({ ok: z.boolean(), error: z.string().optional() }),
  counts: z.object({
    targetActionsLastHour: z.int().min(0),
    clusterActionsLastHour: z.int().min(0),
    consecutiveFailures: z.int().min(0),
  }),
  now: isoTimestamp,
});
export type PolicyInput = z.output<typeof policyInputSchema>;
export const PolicyInput = defineContract('PolicyInput', policyInputSchema);

/**
 * How far CortexOps may go in a namespace (policy data): `observe` plans and dry-runs only ("would have done"),
 * `approve` applies only after a human approval, `auto` lets the policy decide. Namespaces nobody enrolled are in
 * `observe`; the kill switch puts every namespace in `observe` at once.
 */
export const OPERATING_MODES = ['observe', 'approve', 'auto'] as const;
export const operatingMode = z.enum(OPERATING_MODES);
export type OperatingMode = z.infer<typeof operatingMode>;

export const policyDecisionSchema = z.object({
  allow: z.boolean(),
  /** The operating mode of the action's namespace (cluster-scoped actions: the cluster's mode). */
  mode: operatingMode,
  requireApproval: z.boolean(),
  reasons: z.array(z.string()),
  violations: z.array(z.string()),
});
export type PolicyDecision = z.output<typeof policyDecisionSchema>;
export const PolicyDecision = defineContract('PolicyDecision', policyDecisionSchema);
