import { ActionReceipt, actionSchema, defineContract, identifier, isoTimestamp, kubernetesName, kubernetesNamespace, sha256Hex } from '@cortexops/contracts';
import { z } from 'zod';

/** Annotations the gateway writes beside `cortexops.io/remediation-id` (its own bookkeeping). */
export const GATEWAY_ANNOTATIONS = {
  /** The receipt of the remediation named by `cortexops.io/remediation-id`, as JSON (a retried apply returns it). */
  receipt: 'cortexops.io/remediation-receipt',
  /** Set by a revert: the remediation id that was undone on this object. */
  revertedId: 'cortexops.io/reverted-remediation-id',
  /** The last remediation ids applied to this object, oldest first, comma-separated (an older id is refused once a newer one is here). */
  history: 'cortexops.io/remediation-history',
} as const;

/** How many applied ids an object remembers. */
export const HISTORY_LENGTH = 20;

/** `kubectl rollout restart` sets this on the pod template. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
/** The Deployment controller numbers revisions on Deployments and their ReplicaSets. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

export const RECEIPT_KINDS = ['Deployment', 'StatefulSet', 'Node'] as const;

/** The object the receipt is stored on and that revert restores. */
export const targetSchema = z.object({
  apiVersion: z.enum(['apps/v1', 'v1']),
  kind: z.enum(RECEIPT_KINDS),
  namespace: kubernetesNamespace.optional(),
  name: kubernetesName,
  uid: z.string().min(1).max(64),
});
export type Target = z.output<typeof targetSchema>;

const podTemplate = z.record(z.string(), z.unknown());

/** What the object held before the action, per kind of change. Revert puts exactly this back. */
export const priorStateSchema = z.discriminatedUnion('field', [
  z.object({ field: z.literal('spec.template'), template: podTemplate }),
  z.object({ field: z.literal('spec.replicas'), replicas: z.int().min(0) }),
  z.object({ field: z.literal('spec.unschedulable'), unschedulable: z.boolean() }),
  /** A deleted pod: nothing to restore; its controller recreates it. */
  z.object({
    field: z.literal('pod'),
    pod: z.object({ name: kubernetesName, uid: z.string().min(1).max(64) }),
  }),
]);
export type PriorState = z.output<typeof priorStateSchema>;

/**
 * What an apply changed, enough to revert it. It is also stored on the changed object (annotation
 * `cortexops.io/remediation-receipt`, written in the same request as the change), so a second apply
 * with the same remediation id returns this same receipt.
 */
export const receiptSchema = z.object({
  remediationId: identifier,
  action: actionSchema,
  /** The object the receipt is stored on (for delete-pod: the pod's Deployment or StatefulSet). */
  target: targetSchema,
  /** The target's resourceVersion when it was read for the change. */
  priorResourceVersion: z.string().min(1).max(64),
  priorSpec: priorStateSchema,
  /**
   * What the apply left in the changed field: SHA-256 of the field (in the shape of `priorSpec`) as the API
   * server answered the change, defaults included. Revert refuses when the live field hashes differently.
   * Absent only for delete-pod (nothing to restore).
   */
  applied: z.object({ sha256: sha256Hex }).optional(),
  appliedAt: isoTimestamp,
}).refine((r) => r.priorSpec.field === 'pod' || r.applied !== undefined, { path: ['applied'], message: 'is required when a field was changed' });
export type Receipt = z.output<typeof receiptSchema>;
export const Receipt = defineContract('KubernetesReceipt', receiptSchema);

/** The audit store's record of a gateway receipt (`@cortexops/contracts` ActionReceipt). */
export function toActionReceipt(receipt: Receipt, incidentId: string, workflowId?: string): ActionReceipt {
  return ActionReceipt.parse({
    remediationId: receipt.remediationId,
    incidentId,
    ...(workflowId === undefined ? {} : { workflowId }),
    action: receipt.action,
    priorSpec: receipt.priorSpec,
    receipt: { target: receipt.target, priorResourceVersion: receipt.priorResourceVersion, ...(receipt.applied === undefined ? {} : { applied: receipt.applied }) },
    appliedAt: receipt.appliedAt,
  });
}

/** The gateway receipt inside an audit ActionReceipt (what revert needs, back from the store). */
export function fromActionReceipt(stored: ActionReceipt): Receipt {
  const inner = stored.receipt as { target?: unknown; priorResourceVersion?: unknown; applied?: unknown };
  return Receipt.parse({
    remediationId: stored.remediationId,
    action: stored.action,
    target: inner.target,
    priorResourceVersion: inner.priorResourceVersion,
    priorSpec: stored.priorSpec,
    ...(inner.applied === undefined ? {} : { applied: inner.applied }),
    appliedAt: stored.appliedAt,
  });
}

/** The ids in an object's history annotation, oldest first. */
export function appliedIds(annotation: string | undefined): string[] {
  return (annotation ?? '').split(',').filter((id) => id !== '');
}

/** The history annotation with `id` added as the newest, keeping the last {@link HISTORY_LENGTH}. */
export function withAppliedId(annotation: string | undefined, id: string): string {
  return [...appliedIds(annotation).filter((other) => other !== id), id].slice(-HISTORY_LENGTH).join(',');
}

/** The newest id applied after `id`, when the history holds `id` and something newer. */
export function newerThan(annotation: string | undefined, id: string): string | undefined {
  const ids = appliedIds(annotation);
  const at = ids.lastIndexOf(id);
  return at >= 0 && at < ids.length - 1 ? ids[ids.length - 1] : undefined;
}
