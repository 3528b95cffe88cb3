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

export const remediationPlanSchema = z.object({
  incidentId: identifier,
  actions: z.array(actionSchema).min(1).max(5),
  rationale: z.string().min(1).max(4000),
  source: z.enum(['llm', 'heuristic', 'manual']),
  risk: riskLevel,
  createdAt: isoTimestamp,
});
export type RemediationPlan = z.output<typeof remediationPlanSchema>;
export const RemediationPlan = defineContract('RemediationPlan', remediationPlanSchema);
