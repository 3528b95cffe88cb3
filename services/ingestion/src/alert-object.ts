import type { ObjectRef, WorkloadKind } from '@cortexops/contracts';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes object name (DNS-1123 subdomain), else undefined. */
export function kubernetesNameOf(value: string | undefined): string | undefined {
  return value && value.length <= 253 && DNS1123_SUBDOMAIN.test(value) ? value : undefined;
}

/** A Kubernetes namespace (DNS-1123 label), else undefined. */
export function namespaceOf(value: string | undefined): string | undefined {
  return value && value.length <= 63 && DNS1123_LABEL.test(value) ? value : undefined;
}

/**
 * `instance` names a node when a per-node target was relabelled to its node's name, as kube-prometheus does for
 * node-exporter (`__meta_kubernetes_pod_node_name` → `instance`). Prometheus's own `instance` is `host:port` (and
 * a blackbox probe's a URL), which is no object name. An `instance` relabelled to the alert's pod, service or
 * scrape job is that, not a node.
 */
function instanceNode(labels: Readonly<Record<string, string>>): string | undefined {
  const instance = kubernetesNameOf(labels.instance);
  if (instance === undefined) return undefined;
  if (instance === labels.pod || instance === labels.service || instance === labels.job) return undefined;
  return instance;
}

interface AlertObjectRow {
  /** The label read. */
  readonly label: string;
  readonly kind: WorkloadKind;
  /** Reads the name from the labels (default: the label's value when it is a valid object name). */
  readonly read?: (labels: Readonly<Record<string, string>>) => string | undefined;
}

/**
 * **Which Kubernetes object an Alertmanager alert is about** — the first row whose label holds a valid object name
 * wins. The label conventions are those of kube-state-metrics, the kubelet/cAdvisor, node-exporter as
 * kube-prometheus scrapes them, and the kubernetes-mixin and node-exporter-mixin rules:
 *
 * | # | label | object | seen on |
 * |---|---|---|---|
 * | 1 | `instance` without a port (not equal to `pod`, `service`, `job`) | Node | node-exporter alerts (`NodeFilesystemAlmostOutOfSpace`, ...): kube-prometheus relabels `instance` to the node; their `pod`/`namespace`/`service`/`container` labels are the exporter's own target labels, not the subject |
 * | 2 | `pod` | Pod (+ owner chain) | `KubePodCrashLooping`, `KubePodNotReady`, `KubeContainerWaiting`, `CPUThrottlingHigh` |
 * | 3 | `deployment` | Deployment | `KubeDeploymentReplicasMismatch`, `KubeDeploymentRolloutStuck` |
 * | 4 | `statefulset` | StatefulSet | `KubeStatefulSetReplicasMismatch` |
 * | 5 | `daemonset` | DaemonSet | `KubeDaemonSetRolloutStuck` |
 * | 6 | `replicaset` | ReplicaSet | kube-state-metrics `kube_replicaset_*` |
 * | 7 | `job_name` | Job | `KubeJobFailed`, `KubeJobNotCompleted` (kube-state-metrics names a Kubernetes Job `job_name`) |
 * | 8 | `node` | Node | `KubeNodeNotReady`, `KubeNodeUnreachable`, `KubeletTooManyPods`, `KubeNodeEviction` |
 *
 * Never an object: `job` (the Prometheus scrape job: `kube-state-metrics`, `node-exporter`, `kubelet`), `instance`
 * as `host:port`, and the other Prometheus/prometheus-operator target labels (`service`, `endpoint`, `container`,
 * `metrics_path`). `namespace` is the object's namespace, not an object (and is dropped for a Node).
 *
 * A workload alert that also carries `node` (cAdvisor series, a join with `kube_pod_info`) is about the workload;
 * the node is where it runs (the signal's `node`, for topology), so a container's problem never becomes its node's.
 * An alert naming no object still becomes a signal; the correlator groups it by its service or alert name.
 */
export const ALERT_OBJECT_TABLE: readonly AlertObjectRow[] = [
  { label: 'instance', kind: 'Node', read: instanceNode },
  { label: 'pod', kind: 'Pod' },
  { label: 'deployment', kind: 'Deployment' },
  { label: 'statefulset', kind: 'StatefulSet' },
  { label: 'daemonset', kind: 'DaemonSet' },
  { label: 'replicaset', kind: 'ReplicaSet' },
  { label: 'job_name', kind: 'Job' },
  { label: 'node', kind: 'Node' },
];

/** Labels naming a pod's owners, from the pod upwards (rows 3–7 of {@link ALERT_OBJECT_TABLE}, nearest owner first). */
const OWNER_LABELS: readonly [string, WorkloadKind][] = [
  ['replicaset', 'ReplicaSet'],
  ['deployment', 'Deployment'],
  ['statefulset', 'StatefulSet'],
  ['daemonset', 'DaemonSet'],
  ['job_name', 'Job'],
];

/** What an alert's labels say about the object it is about. */
export interface AlertObject {
  readonly object?: ObjectRef;
  /** The object's namespace (none for a Node). */
  readonly namespace?: string;
  /** The node the object is, or runs on. */
  readonly node?: string;
  /** For a Pod: its owners named by labels (the webhook's owner chain read from the cluster takes precedence). */
  readonly ownersFromLabels: readonly ObjectRef[];
}

/** Applies {@link ALERT_OBJECT_TABLE} to an alert's labels. */
export function alertObjectOf(labels: Readonly<Record<string, string>>): AlertObject {
  let object: ObjectRef | undefined;
  for (const row of ALERT_OBJECT_TABLE) {
    const name = row.read ? row.read(labels) : kubernetesNameOf(labels[row.label]);
    if (name !== undefined) {
      object = { kind: row.kind, name };
      break;
    }
  }
  if (object?.kind === 'Node') return { object, node: object.name, ownersFromLabels: [] };
  const ownersFromLabels: ObjectRef[] = [];
  if (object?.kind === 'Pod') {
    for (const [label, kind] of OWNER_LABELS) {
      const name = kubernetesNameOf(labels[label]);
      if (name !== undefined) ownersFromLabels.push({ kind, name });
    }
  }
  return { object, namespace: namespaceOf(labels.namespace), node: kubernetesNameOf(labels.node), ownersFromLabels };
}
