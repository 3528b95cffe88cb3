import { join } from 'node:path';
import { LOCAL_HOST } from '@cortexops/config';
import { PrometheusClient } from '@cortexops/prometheus';
import bcrypt from 'bcryptjs';
import { launchPrivatePrometheus } from './private-prometheus.js';
import { VERSIONS } from './stack/versions.js';
import type { StackContext } from './stack/types.js';
import { freePort } from './testing.js';
import type { TestPki } from './tls-terminator.js';

export interface SecuredPrometheusOptions {
  /** Served under this path (`--web.route-prefix`), e.g. `/prometheus` as Mimir and Cortex serve their query API. */
  readonly routePrefix?: string;
  /**
   * HTTPS with the PKI's server certificate (`tls_server_config`); with `clientCertificates`, a client must present
   * a certificate the PKI's CA signed (`RequireAndVerifyClientCert`).
   */
  readonly tls?: { readonly pki: TestPki; readonly clientCertificates?: boolean };
  /** Basic auth users and passwords (`basic_auth_users`, stored as bcrypt hashes). */
  readonly users?: Readonly<Record<string, string>>;
}

export interface SecuredPrometheus {
  /** The base URL of its query API: `http(s)://127.0.0.1:<port>[<routePrefix>]`. */
  readonly url: string;
  /** The job of its scrape of itself (through the same TLS and basic auth): `up{job=...}` is 1 once scraped. */
  readonly job: string;
  stop(): Promise<void>;
}

/** bcrypt's lowest cost: Prometheus checks the hash on each request, and a test needs no resistance to guessing. */
const BCRYPT_COST = 4;
const JOB = 'secured-prometheus';

/**
 * A real Prometheus of a test's own behind Prometheus' own web configuration (`--web.config.file`: TLS, client
 * certificates, basic auth) and, optionally, a route prefix — the settings a CortexOps client must get right to read
 * from it. It scrapes itself every second through the same settings. Started in the private context `ctx`.
 */
export async function startSecuredPrometheus(ctx: StackContext, options: SecuredPrometheusOptions): Promise<SecuredPrometheus> {
  const port = await freePort();
  const prefix = options.routePrefix ?? '';
  const { tls, users = {} } = options;
  const url = `${tls ? 'https' : 'http'}://${LOCAL_HOST}:${port}${prefix}`;
  const [scrapeUser, scrapePassword] = Object.entries(users)[0] ?? [];
  const mtls = tls?.clientCertificates === true;
  // The readiness probe is the client the tests use: the server is up once it takes these credentials.
  let client: PrometheusClient | undefined;
  const name = `secured-prometheus-${port}`;
  const stop = await launchPrivatePrometheus(ctx, {
    name,
    description: `Prometheus ${VERSIONS.prometheus.version} behind TLS and basic auth`,
    port,
    files: () => ({
      'web.yml': JSON.stringify({
        ...(tls
          ? { tls_server_config: { cert_file: tls.pki.serverCert, key_file: tls.pki.serverKey, ...(mtls ? { client_auth_type: 'RequireAndVerifyClientCert', client_ca_file: tls.pki.ca } : {}) } }
          : {}),
        basic_auth_users: Object.fromEntries(Object.entries(users).map(([user, password]) => [user, bcrypt.hashSync(password, BCRYPT_COST)])),
      }),
      ...(scrapePassword === undefined ? {} : { 'scrape-password': scrapePassword }),
    }),
    config: (dir) => ({
      global: { scrape_interval: '1s' },
      scrape_configs: [
        {
          job_name: JOB,
          scheme: tls ? 'https' : 'http',
          metrics_path: `${prefix}/metrics`,
          static_configs: [{ targets: [`${LOCAL_HOST}:${port}`] }],
          ...(tls ? { tls_config: { ca_file: tls.pki.ca, ...(mtls ? { cert_file: tls.pki.clientCert, key_file: tls.pki.clientKey } : {}) } } : {}),
          ...(scrapeUser === undefined ? {} : { basic_auth: { username: scrapeUser, password_file: join(dir, 'scrape-password') } }),
        },
      ],
    }),
    args: (dir) => [`--web.config.file=${join(dir, 'web.yml')}`, ...(prefix === '' ? [] : [`--web.route-prefix=${prefix}`, `--web.external-url=${url}`])],
    probe: async () => {
      client ??= PrometheusClient.create({
        baseUrl: url,
        timeoutMs: 2000,
        retries: 0,
        ...(tls ? { tls: { caFile: tls.pki.ca, ...(mtls ? { certFile: tls.pki.clientCert, keyFile: tls.pki.clientKey } : {}) } } : {}),
        ...(scrapeUser === undefined ? {} : { username: scrapeUser, passwordFile: join(ctx.dataDir, name, 'scrape-password') }),
      });
      await client.get('status/buildinfo');
    },
  });
  return {
    url,
    job: JOB,
    stop: async () => {
      await client?.close();
      await stop();
    },
  };
}
