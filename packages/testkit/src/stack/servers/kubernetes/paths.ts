import { join } from 'node:path';
import { LOCAL_HOST } from '@cortexops/config';
import { stackPorts } from '../../context.js';
import type { StackContext } from '../../types.js';
import { VERSIONS } from '../../versions.js';

/** Where the local Kubernetes control plane keeps its tools, state, certificates and kubeconfigs. */

export const KUBERNETES_VERSION = VERSIONS.kubernetes.version;
export const ETCD_VERSION = VERSIONS.etcd.version;
export const KWOK_VERSION = VERSIONS.kwok.version;
export const KUBE_STATE_METRICS_VERSION = VERSIONS.kubeStateMetrics.version;

/** The namespace and ServiceAccount the worker acts as; its RBAC lives in deploy/k8s/. */
export const WORKER_NAMESPACE = 'cortexops-system';
export const WORKER_SERVICE_ACCOUNT = 'cortexops-worker';
/** The ingestion service's Kubernetes event watcher acts as this ServiceAccount (same namespace). */
export const INGESTION_SERVICE_ACCOUNT = 'cortexops-ingestion';
/** The local kube-state-metrics lists and watches the cluster as this ServiceAccount (same namespace). */
export const KUBE_STATE_METRICS_SERVICE_ACCOUNT = 'cortexops-kube-state-metrics';
/** The demo workload the stack creates: a Deployment of `DEMO_REPLICAS` pods in `DEMO_NAMESPACE`. */
export const DEMO_NAMESPACE = 'demo';
export const DEMO_DEPLOYMENT = 'checkout';
export const DEMO_REPLICAS = 3;
/** Nodes carrying this annotation are the ones kwok simulates. */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const KWOK_NODE_COUNT = 3;
export const CLUSTER_NAME = 'cortexops-local';

export const kubernetesToolsDir = (ctx: StackContext) => join(ctx.toolsDir, `kubernetes-${KUBERNETES_VERSION}`);
export const etcdToolsDir = (ctx: StackContext) => join(ctx.toolsDir, `etcd-${ETCD_VERSION}`);
export const kwokToolsDir = (ctx: StackContext) => join(ctx.toolsDir, `kwok-${KWOK_VERSION}`);
export const kubeStateMetricsToolsDir = (ctx: StackContext) => join(ctx.toolsDir, `kube-state-metrics-${KUBE_STATE_METRICS_VERSION}`);

export type KubernetesCommand = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubectl';
export const kubernetesBinary = (ctx: StackContext, name: KubernetesCommand) => join(kubernetesToolsDir(ctx), 'bin', name);

export const kubernetesDataDir = (ctx: StackContext) => join(ctx.dataDir, 'kubernetes');
export const pkiDir = (ctx: StackContext) => join(kubernetesDataDir(ctx), 'pki');
export const pkiFile = (ctx: StackContext, file: string) => join(pkiDir(ctx), file);

export function apiserverUrl(ctx: StackContext): string {
  return `https://${LOCAL_HOST}:${stackPorts(ctx).kubeApiserverPort}`;
}

export function etcdUrl(ctx: StackContext): string {
  return `http://${LOCAL_HOST}:${stackPorts(ctx).etcdPort}`;
}

export interface KubeconfigPaths {
  /** Cluster administrator (client certificate in `system:masters`). */
  readonly admin: string;
  /** The worker's ServiceAccount `cortexops-system/cortexops-worker` (a long-lived token). */
  readonly worker: string;
  /** The ingestion watcher's ServiceAccount `cortexops-system/cortexops-ingestion` (a long-lived token). */
  readonly ingestion: string;
  /** kube-state-metrics' ServiceAccount `cortexops-system/cortexops-kube-state-metrics` (list and watch only). */
  readonly kubeStateMetrics: string;
  readonly controllerManager: string;
  readonly scheduler: string;
  /** The cluster CA, for clients that verify the API server themselves. */
  readonly caCert: string;
}

/** The kubeconfigs the local stack writes (they exist once kube-apiserver, resp. the controller manager, has started). */
export function kubeconfigPaths(ctx: StackContext): KubeconfigPaths {
  const dir = kubernetesDataDir(ctx);
  return {
    admin: join(dir, 'admin.kubeconfig'),
    worker: join(dir, 'worker.kubeconfig'),
    ingestion: join(dir, 'ingestion.kubeconfig'),
    kubeStateMetrics: join(dir, 'kube-state-metrics.kubeconfig'),
    controllerManager: join(dir, 'controller-manager.kubeconfig'),
    scheduler: join(dir, 'scheduler.kubeconfig'),
    caCert: pkiFile(ctx, 'ca.crt'),
  };
}

/**
 * Flags kube-controller-manager and kube-scheduler share: their API identity, delegated
 * authentication and authorisation of their own HTTPS endpoint (health, metrics) through the API
 * server, and that endpoint on loopback with the cluster's serving certificate.
 */
export function componentArgs(ctx: StackContext, kubeconfig: string, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    `--bind-address=${LOCAL_HOST}`,
    `--secure-port=${port}`,
    `--tls-cert-file=${pkiFile(ctx, 'serving.crt')}`,
    `--tls-private-key-file=${pkiFile(ctx, 'serving.key')}`,
    // One instance each: no election to wait for on start.
    '--leader-elect=false',
    '--profiling=false',
  ];
}
