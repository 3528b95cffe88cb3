import { tenantHeaderSchema } from '@cortexops/contracts';
import { z } from 'zod';
import { type ConfigOf, type EnvVar, intVar, optionalStringVar } from './env.js';
import { LOCAL_HOST, stackPort } from './stack.js';

const PROMETHEUS_URL = 'CORTEXOPS_PROMETHEUS_URL';

/**
 * The base URL of a Prometheus-compatible HTTP API: `http(s)://host:port[/path]` — Prometheus (with its
 * `--web.route-prefix`), Thanos Query at its root, Mimir and Cortex under `/prometheus`. Credentials never go in it
 * (a rejected value is shown with them hidden): they come from files.
 */
function prometheusUrlVar(): EnvVar<string> {
  return {
    name: PROMETHEUS_URL,
    description: 'Prometheus-compatible query API the worker diagnoses and verifies with: Prometheus, Thanos Query, Mimir or Cortex (e.g. https://mimir.example/prometheus)',
    fallback: (env) => `http://${LOCAL_HOST}:${stackPort(env, 'CORTEXOPS_PROMETHEUS_PORT')}`,
    schema: z
      .string({ error: 'is required' })
      .refine((v) => URL.canParse(v) && ['http:', 'https:'].includes(new URL(v).protocol), 'must be a URL with scheme http or https')
      .refine(
        (v) => !URL.canParse(v) || (new URL(v).username === '' && new URL(v).password === ''),
        'must not carry credentials: name the user in CORTEXOPS_PROMETHEUS_USERNAME and the password in the file CORTEXOPS_PROMETHEUS_PASSWORD_FILE',
      )
      .refine((v) => !URL.canParse(v) || (new URL(v).search === '' && new URL(v).hash === ''), 'must not have a query or fragment'),
  };
}

/**
 * How the worker reaches its Prometheus-compatible backend (packages/prometheus `prometheusClientFromConfig` turns
 * these into the client and checks what needs the others or the files: one way of authenticating, TLS files only with
 * https, a key with its certificate, every file readable). Secrets are read from files, re-read when they change
 * (rotation without a restart); no secret is ever an environment value.
 */
export const prometheusSpec = {
  prometheusUrl: prometheusUrlVar(),
  prometheusTimeoutMs: intVar('CORTEXOPS_PROMETHEUS_TIMEOUT_MS', 5000, 100, 60_000, 'timeout of one Prometheus query'),
  prometheusRetries: intVar('CORTEXOPS_PROMETHEUS_RETRIES', 2, 0, 10, 'retries of a failed Prometheus query before the measurement is inconclusive (network errors, timeouts, 429, 5xx only)'),
  prometheusTenant: {
    name: 'CORTEXOPS_PROMETHEUS_TENANT',
    description: "X-Scope-OrgID sent with every query (Mimir, Cortex, multi-tenant Thanos): Mimir's tenant id rules; several joined by | for a federated read",
    schema: tenantHeaderSchema.optional(),
  } satisfies EnvVar<string | undefined>,
  prometheusBearerTokenFile: optionalStringVar('CORTEXOPS_PROMETHEUS_BEARER_TOKEN_FILE', 'file holding the bearer token sent as Authorization: Bearer (re-read when it changes); not with basic auth'),
  prometheusUsername: optionalStringVar('CORTEXOPS_PROMETHEUS_USERNAME', 'basic auth user (with CORTEXOPS_PROMETHEUS_PASSWORD_FILE)'),
  prometheusPasswordFile: optionalStringVar('CORTEXOPS_PROMETHEUS_PASSWORD_FILE', 'file holding the basic auth password (re-read when it changes)'),
  prometheusCaFile: optionalStringVar('CORTEXOPS_PROMETHEUS_CA_FILE', 'PEM CA bundle the server certificate must chain to (https only; default: the system roots)'),
  prometheusCertFile: optionalStringVar('CORTEXOPS_PROMETHEUS_CERT_FILE', 'PEM client certificate for mutual TLS (https only; with CORTEXOPS_PROMETHEUS_KEY_FILE)'),
  prometheusKeyFile: optionalStringVar('CORTEXOPS_PROMETHEUS_KEY_FILE', 'PEM private key of the client certificate'),
  prometheusServerName: optionalStringVar('CORTEXOPS_PROMETHEUS_SERVER_NAME', 'name the server certificate must carry, and the TLS SNI (default: the URL host)'),
} as const;

export type PrometheusConfig = ConfigOf<typeof prometheusSpec>;

/** The variable that sets each client option (packages/prometheus option paths), to name it in a start-up error. */
export const PROMETHEUS_OPTION_VARIABLES: Readonly<Record<string, string>> = {
  baseUrl: PROMETHEUS_URL,
  timeoutMs: prometheusSpec.prometheusTimeoutMs.name,
  retries: prometheusSpec.prometheusRetries.name,
  tenant: prometheusSpec.prometheusTenant.name,
  bearerTokenFile: prometheusSpec.prometheusBearerTokenFile.name,
  username: prometheusSpec.prometheusUsername.name,
  passwordFile: prometheusSpec.prometheusPasswordFile.name,
  'tls.caFile': prometheusSpec.prometheusCaFile.name,
  'tls.certFile': prometheusSpec.prometheusCertFile.name,
  'tls.keyFile': prometheusSpec.prometheusKeyFile.name,
  'tls.serverName': prometheusSpec.prometheusServerName.name,
};
