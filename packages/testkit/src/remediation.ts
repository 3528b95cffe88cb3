import { createHash, randomBytes } from 'node:crypto';
import { Signal } from '@cortexops/contracts';
import { kubectl } from './stack/servers/kubernetes/kubectl.js';
import { WORKER_NAMESPACE, WORKER_SERVICE_ACCOUNT } from './stack/servers/kubernetes/paths.js';
import type { StackContext } from './stack/types.js';

/** What remediation tests and benchmarks share: an enrolled namespace, a workload to act on, the signal about it. */

/** The ClusterRole a RoleBinding grants in each namespace enrolled for remediation (deploy/k8s/worker-rbac.yaml). */
export const REMEDIATION_ROLE = 'cortexops-worker-remediation';

/** Creates `namespace` and enrols it for remediation as an operator would: a RoleBinding to the worker's ClusterRole. */
export async function enrolForRemediation(ctx: StackContext, namespace: string): Promise<void> {
  await kubectl(ctx, ['create', 'namespace', namespace]);
  await kubectl(ctx, ['create', 'rolebinding', REMEDIATION_ROLE, '-n', namespace, `--clusterrole=${REMEDIATION_ROLE}`, `--serviceaccount=${WORKER_NAMESPACE}:${WORKER_SERVICE_ACCOUNT}`]);
}

/**
 * A Deployment of one container with a memory limit and no request (Kubernetes defaults the request to the limit),
 * which kwok runs: what the planner's OOM rule raises.
 */
export function memoryLimitedDeployment(namespace: string, name: string, memory: string, replicas = 1) {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'registry.example/checkout:1.0', resources: { limits: { memory } } }] } },
    },
  };
}

export interface KubeletEventSignal {
  readonly namespace: string;
  readonly workload: string;
  readonly pod: string;
  readonly reason: string;
  readonly cluster?: string;
}

/**
 * What ingestion publishes for a kubelet Warning event on one of a Deployment's pods (owner chain read from the
 * cluster): the correlator's input. The same pod and reason make the same fingerprint (the same problem).
 */
export function kubeletEventSignal(event: KubeletEventSignal, overrides: Partial<Signal> = {}): Signal {
  const now = new Date().toISOString();
  const { namespace, workload, pod, reason } = event;
  return Signal.parse({
    id: `sig-${randomBytes(8).toString('hex')}`,
    source: 'kubernetes',
    cluster: event.cluster ?? 'local',
    namespace,
    object: { kind: 'Pod', name: pod },
    ownerChain: [
      { kind: 'ReplicaSet', name: pod.split('-').slice(0, -1).join('-') },
      { kind: 'Deployment', name: workload },
    ],
    severity: 'critical',
    status: 'firing',
    title: `${reason}: Pod/${pod} Memory cgroup out of memory: Killed process 4242 (checkout)`,
    reason,
    fingerprint: createHash('sha256').update(`Pod/${namespace}/${pod}/${reason}`).digest('hex').slice(0, 32),
    startsAt: now,
    receivedAt: now,
    ...overrides,
  });
}
