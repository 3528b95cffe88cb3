import { z } from 'zod';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Namespaces are DNS-1123 labels. */
export const kubernetesNamespace = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(DNS1123_LABEL, 'must be a DNS-1123 label (lowercase letters, digits and "-", starting and ending alphanumeric)');

/** Object names (pods, deployments, nodes ...) are DNS-1123 subdomains. */
export const kubernetesName = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(DNS1123_SUBDOMAIN, 'must be a DNS-1123 subdomain (lowercase letters, digits, "-" and ".")');

/** Container names are DNS-1123 labels. */
export const containerName = kubernetesNamespace;

export const WORKLOAD_KINDS = ['Pod', 'ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'Node', 'Service'] as const;
export const workloadKind = z.enum(WORKLOAD_KINDS);
export type WorkloadKind = z.infer<typeof workloadKind>;

export const objectRef = z.object({
  kind: workloadKind,
  name: kubernetesName,
});
export type ObjectRef = z.infer<typeof objectRef>;

/** Owners of an object from the object upwards, e.g. ReplicaSet then Deployment (at most 8 levels). */
export const ownerChain = z.array(objectRef).max(8);

/** A namespaced (or, for nodes, cluster-scoped) object that CortexOps may act on. */
export const targetRef = z.object({
  kind: workloadKind,
  namespace: kubernetesNamespace.optional(),
  name: kubernetesName,
});
export type TargetRef = z.infer<typeof targetRef>;

/** Kubernetes quantity such as `512Mi` or `1Gi`. */
export const memoryQuantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$/, 'must be a Kubernetes memory quantity like 512Mi');
