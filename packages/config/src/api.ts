import { z } from 'zod';
import { type Env, type EnvVar, optionalSecretVar, optionalStringVar, urlVar } from './env.js';
import { LOCAL_HOST, SERVICE_PORT_DEFAULTS, stackPort } from './stack.js';

/** One component the api's aggregated `/debug/healthz` asks: its name and the URL that answers 2xx when it is healthy. */
export interface HealthTarget {
  readonly name: string;
  readonly url: string;
}

const servicePort = (env: Env, service: keyof typeof SERVICE_PORT_DEFAULTS) => env[`CORTEXOPS_${service.toUpperCase()}_PORT`] ?? String(SERVICE_PORT_DEFAULTS[service]);

/**
 * The local stack's components the api reports on besides its own connections (NATS, Temporal, PostgreSQL): the other
 * services' `/debug/healthz` and the plain-HTTP servers' readiness; with CORTEXOPS_API_HEALTH_CA_FILE (the cluster CA)
 * also the Kubernetes control plane, which answers over TLS.
 */
function localHealthTargets(env: Env): string {
  const http = (port: string, path: string) => `http://${LOCAL_HOST}:${port}${path}`;
  const https = (port: string, path: string) => `https://${LOCAL_HOST}:${port}${path}`;
  const kubernetes = env.CORTEXOPS_API_HEALTH_CA_FILE
    ? [
        `kube-apiserver=${https(stackPort(env, 'CORTEXOPS_KUBE_APISERVER_PORT'), '/readyz')}`,
        `kube-controller-manager=${https(stackPort(env, 'CORTEXOPS_KUBE_CONTROLLER_MANAGER_PORT'), '/healthz')}`,
        `kube-scheduler=${https(stackPort(env, 'CORTEXOPS_KUBE_SCHEDULER_PORT'), '/healthz')}`,
      ]
    : [];
  return [
    ...(['ingestion', 'correlator', 'worker', 'approvals'] as const).map((s) => `${s}=${http(servicePort(env, s), '/debug/healthz')}`),
    `nats-jetstream=${http(stackPort(env, 'CORTEXOPS_NATS_MONITOR_PORT'), '/healthz?js-enabled-only=true')}`,
    `prometheus=${http(stackPort(env, 'CORTEXOPS_PROMETHEUS_PORT'), '/-/ready')}`,
    `alertmanager=${http(stackPort(env, 'CORTEXOPS_ALERTMANAGER_PORT'), '/-/ready')}`,
    `etcd=${http(stackPort(env, 'CORTEXOPS_ETCD_PORT'), '/health')}`,
    `kwok=${http(stackPort(env, 'CORTEXOPS_KWOK_PORT'), '/healthz')}`,
    `kube-state-metrics=${http(stackPort(env, 'CORTEXOPS_KUBE_STATE_METRICS_PORT'), '/livez')}`,
    ...kubernetes,
  ].join(',');
}

const targetName = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** `name=url,...` (http or https); `none` reports on nothing beyond the api's own connections. */
export function healthTargetsVar(name: string, description: string): EnvVar<readonly HealthTarget[]> {
  return {
    name,
    description,
    fallback: localHealthTargets,
    schema: z.string().transform((value, context) => {
      const targets: HealthTarget[] = [];
      if (value.trim() === 'none') return targets;
      for (const entry of value.split(',').map((e) => e.trim()).filter((e) => e.length > 0)) {
        const at = entry.indexOf('=');
        const [key, url] = at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
        let valid = false;
        try {
          valid = ['http:', 'https:'].includes(new URL(url).protocol);
        } catch {
          valid = false;
        }
        if (!targetName.test(key) || !valid) {
          context.addIssue({ code: 'custom', message: `each entry must be name=http(s)://host:port/path with a name of a-z, 0-9, "-" (got ${JSON.stringify(entry.slice(0, 80))})` });
          return z.NEVER;
        }
        if (targets.some((t) => t.name === key)) {
          context.addIssue({ code: 'custom', message: `the name ${key} is given twice` });
          return z.NEVER;
        }
        targets.push({ name: key, url });
      }
      return targets;
    }),
  };
}

/** The api service's own settings: its read token, the approvals service it forwards manual actions to, what its health aggregates. */
export const apiSpec = {
  apiToken: optionalSecretVar('CORTEXOPS_API_TOKEN', 32, 'bearer token of the api read routes (incidents, reviews, audit, verify); without it they answer 503'),
  apiApprovalsUrl: urlVar(
    'CORTEXOPS_APPROVALS_URL',
    (env) => `http://${LOCAL_HOST}:${servicePort(env, 'approvals')}`,
    ['http', 'https'],
    "approvals service the api forwards approve, reject and cancel to, with the caller's own credential",
  ),
  healthTargets: healthTargetsVar('CORTEXOPS_API_HEALTH_TARGETS', "what the api's /debug/healthz aggregates besides its own connections: name=url of each service and server, comma-separated (none: only its own)"),
  healthCaFile: optionalStringVar('CORTEXOPS_API_HEALTH_CA_FILE', 'PEM CA bundle trusted for https health targets; set (e.g. the local cluster CA), the default targets include the Kubernetes control plane'),
} as const;
