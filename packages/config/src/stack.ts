import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Env, portVar, stringVar } from './env.js';

/** Default ports of the embedded local stack; each can be moved by its variable. */
export const STACK_PORT_DEFAULTS = {
  CORTEXOPS_NATS_PORT: 4222,
  CORTEXOPS_NATS_MONITOR_PORT: 8222,
  CORTEXOPS_POSTGRES_PORT: 5432,
  CORTEXOPS_TEMPORAL_PORT: 7233,
  CORTEXOPS_TEMPORAL_UI_PORT: 8233,
  CORTEXOPS_PROMETHEUS_PORT: 9090,
  CORTEXOPS_ALERTMANAGER_PORT: 9093,
  CORTEXOPS_ETCD_PORT: 2379,
  CORTEXOPS_ETCD_PEER_PORT: 2380,
  CORTEXOPS_KUBE_APISERVER_PORT: 6443,
  CORTEXOPS_KUBE_CONTROLLER_MANAGER_PORT: 10257,
  CORTEXOPS_KUBE_SCHEDULER_PORT: 10259,
  CORTEXOPS_KWOK_PORT: 10247,
  CORTEXOPS_KUBE_STATE_METRICS_PORT: 8085,
} as const;

export const SERVICE_PORT_DEFAULTS = {
  api: 8080,
  ingestion: 8081,
  correlator: 8082,
  worker: 8083,
  approvals: 8084,
} as const;

/** Loopback only: the local stack never listens on other interfaces. */
export const LOCAL_HOST = '127.0.0.1';

/**
 * Where tools, data and logs of the local stack live: outside the repository, reused across clones.
 * Root gets /var/cache (PostgreSQL runs as an unprivileged user and must reach its files; /root is 0700).
 */
export function defaultCacheDir(env: Env): string {
  if (process.getuid?.() === 0) return '/var/cache/cortexops';
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cortexops');
}

export function stackPortVar(name: keyof typeof STACK_PORT_DEFAULTS, description: string) {
  return portVar(name, STACK_PORT_DEFAULTS[name], description);
}

export const stackSpec = {
  cacheDir: stringVar('CORTEXOPS_CACHE_DIR', defaultCacheDir, 'cache of tools, data and logs of the local stack'),
  natsPort: stackPortVar('CORTEXOPS_NATS_PORT', 'NATS client port'),
  natsMonitorPort: stackPortVar('CORTEXOPS_NATS_MONITOR_PORT', 'NATS monitoring port'),
  postgresPort: stackPortVar('CORTEXOPS_POSTGRES_PORT', 'PostgreSQL port'),
  temporalPort: stackPortVar('CORTEXOPS_TEMPORAL_PORT', 'Temporal frontend (gRPC) port'),
  temporalUiPort: stackPortVar('CORTEXOPS_TEMPORAL_UI_PORT', 'Temporal Web UI port'),
  prometheusPort: stackPortVar('CORTEXOPS_PROMETHEUS_PORT', 'Prometheus port'),
  alertmanagerPort: stackPortVar('CORTEXOPS_ALERTMANAGER_PORT', 'Alertmanager port'),
  etcdPort: stackPortVar('CORTEXOPS_ETCD_PORT', 'etcd client port (the local Kubernetes store)'),
  etcdPeerPort: stackPortVar('CORTEXOPS_ETCD_PEER_PORT', 'etcd peer port'),
  kubeApiserverPort: stackPortVar('CORTEXOPS_KUBE_APISERVER_PORT', 'local Kubernetes API server (HTTPS) port'),
  kubeControllerManagerPort: stackPortVar('CORTEXOPS_KUBE_CONTROLLER_MANAGER_PORT', 'kube-controller-manager health (HTTPS) port'),
  kubeSchedulerPort: stackPortVar('CORTEXOPS_KUBE_SCHEDULER_PORT', 'kube-scheduler health (HTTPS) port'),
  kwokPort: stackPortVar('CORTEXOPS_KWOK_PORT', 'kwok (simulated nodes) health and metrics port'),
  kubeStateMetricsPort: stackPortVar('CORTEXOPS_KUBE_STATE_METRICS_PORT', 'kube-state-metrics port (object metrics of the local cluster, scraped by Prometheus)'),
} as const;

/** A stack port from the environment, or its default (used to derive default URLs). */
export function stackPort(env: Env, name: keyof typeof STACK_PORT_DEFAULTS): string {
  const given = env[name];
  return given !== undefined && given !== '' ? given : String(STACK_PORT_DEFAULTS[name]);
}
