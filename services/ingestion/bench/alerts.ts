/**
 * Alerts as a kube-prometheus cluster sends them (kubernetes-mixin and node-exporter-mixin rules over kube-state-metrics,
 * the kubelet/cAdvisor and node-exporter, with the Prometheus Operator's target labels), for the ingestion bench.
 */
import { createHash } from 'node:crypto';
import { sliceAlert, sliceAlerts } from '../src/alert-slices.js';

export interface PodName {
  readonly namespace: string;
  readonly name: string;
}

export interface BenchAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
}

const KSM = { job: 'kube-state-metrics', instance: '10.244.1.7:8443', endpoint: 'https-main', service: 'kube-state-metrics', prometheus: 'monitoring/k8s', container: 'kube-rbac-proxy-main' };
const KUBELET = { job: 'kubelet', instance: '10.0.3.21:10250', endpoint: 'https-metrics', service: 'kubelet', metrics_path: '/metrics/cadvisor', prometheus: 'monitoring/k8s' };
const RUNBOOK = 'https://runbooks.prometheus-operator.dev/runbooks';

/** The i-th alert: one of six kubernetes-mixin / node-exporter-mixin rules, naming pod `pod` (all but one do). */
function labelsOf(i: number, pod: PodName, tag: string): { labels: Record<string, string>; annotations: Record<string, string> } {
  const container = `app-${i}`;
  const common = { namespace: pod.namespace, pod: pod.name, bench: tag };
  switch (i % 6) {
    case 0:
      return {
        labels: { ...KSM, ...common, alertname: 'KubePodCrashLooping', container, reason: 'CrashLoopBackOff', severity: 'warning' },
        annotations: { description: `Pod ${pod.namespace}/${pod.name} (${container}) is in waiting state (reason: "CrashLoopBackOff").`, runbook_url: `${RUNBOOK}/kubernetes/kubepodcrashlooping`, summary: 'Pod is crash looping.' },
      };
    case 1:
      return {
        labels: { ...KSM, ...common, alertname: 'KubePodNotReady', severity: 'warning', container: `${KSM.container}-${i}` },
        annotations: { description: `Pod ${pod.namespace}/${pod.name} has been in a non-ready state for longer than 15 minutes.`, runbook_url: `${RUNBOOK}/kubernetes/kubepodnotready`, summary: 'Pod has been in a non-ready state for more than 15 minutes.' },
      };
    case 2:
      return {
        labels: { ...KSM, ...common, alertname: 'KubeContainerWaiting', container, reason: 'ImagePullBackOff', severity: 'warning' },
        annotations: { description: `pod/${pod.name} in namespace ${pod.namespace} on container ${container} has been in waiting state for longer than 1 hour.`, runbook_url: `${RUNBOOK}/kubernetes/kubecontainerwaiting`, summary: 'Pod container waiting longer than 1 hour' },
      };
    case 3:
      return {
        labels: { ...KUBELET, ...common, alertname: 'CPUThrottlingHigh', container, node: 'kwok-node-0', severity: 'info' },
        annotations: { description: `43.1% throttling of CPU in namespace ${pod.namespace} for container ${container} in pod ${pod.name}.`, runbook_url: `${RUNBOOK}/kubernetes/cputhrottlinghigh`, summary: 'Processes experience elevated CPU throttling.' },
      };
    case 4:
      return {
        labels: { ...KUBELET, ...common, alertname: 'KubeContainerOOMKilled', container, node: 'kwok-node-1', severity: 'warning' },
        annotations: { description: `Container ${container} in pod ${pod.namespace}/${pod.name} has been OOMKilled 1 times in the last 10 minutes.`, summary: 'Container was OOMKilled.' },
      };
    default:
      return {
        labels: { job: 'node-exporter', instance: `kwok-node-${i % 3}`, namespace: 'monitoring', pod: 'node-exporter-7xk2p', service: 'node-exporter', endpoint: 'https', container: 'kube-rbac-proxy', prometheus: 'monitoring/k8s', alertname: 'NodeFilesystemAlmostOutOfSpace', device: `/dev/nvme${i}n1p1`, fstype: 'ext4', mountpoint: `/var/lib/data-${i}`, severity: 'warning', bench: tag },
        annotations: { description: `Filesystem on /dev/nvme${i}n1p1, mounted on /var/lib/data-${i}, at kwok-node-${i % 3} has only 4.21% available space left.`, runbook_url: `${RUNBOOK}/node/nodefilesystemalmostoutofspace`, summary: 'Filesystem has less than 5% space left.' },
      };
  }
}

/** `count` distinct firing alerts naming `pods` in turn; `tag` keeps one run's alerts apart from another's. */
export function kubePrometheusAlerts(count: number, pods: readonly PodName[], tag: string): BenchAlert[] {
  const startsAt = new Date(Date.now() - 600_000).toISOString();
  return Array.from({ length: count }, (_, i) => {
    const { labels, annotations } = labelsOf(i, pods[i % pods.length] as PodName, tag);
    const fingerprint = createHash('sha256').update(JSON.stringify(labels)).digest('hex').slice(0, 16);
    return { status: 'firing', labels, annotations, startsAt, endsAt: '0001-01-01T00:00:00Z', generatorURL: `http://prometheus-k8s-0:9090/graph?g0.expr=${encodeURIComponent(labels.alertname ?? '')}`, fingerprint };
  });
}

/** Alertmanager's webhook body (version 4) for one group, as `max_alerts: 0` sends it. */
export function webhookBody(alerts: readonly BenchAlert[], group: string): string {
  return JSON.stringify({
    receiver: 'cortexops-ingestion',
    status: 'firing',
    alerts,
    groupLabels: { namespace: group },
    commonLabels: { prometheus: 'monitoring/k8s' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager-main-0:9093',
    version: '4',
    groupKey: `{}:{namespace="${group}"}`,
    truncatedAlerts: 0,
  });
}

/** What Alertmanager's own API v2 takes (`POST /api/v2/alerts`): the same alerts as Prometheus posts them. */
export function alertmanagerApiBody(alerts: readonly BenchAlert[]): string {
  return JSON.stringify(alerts.map((a) => ({ labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, generatorURL: a.generatorURL })));
}

/** The TELEMETRY messages the webhook stores for one group of alerts (the consumer run's input), packed as it packs them. */
export function alertmanagerGroupMessages(alerts: readonly BenchAlert[], group: string): Buffer[] {
  const sliced = alerts.map((alert, index) => sliceAlert(index, { ...alert }));
  return sliceAlerts({ groupKey: `{}:{namespace="${group}"}`, receiver: 'cortexops-ingestion' }, 'local', 'unused', sliced).messages.map((m) => Buffer.from(m.data));
}
