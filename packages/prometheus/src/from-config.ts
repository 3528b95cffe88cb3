import { ConfigError, PROMETHEUS_OPTION_VARIABLES, type PrometheusConfig } from '@cortexops/config';
import type { Logger } from '@cortexops/observability';
import { PrometheusClient } from './client.js';
import { InvalidPrometheusOptionError } from './errors.js';
import type { PrometheusClientOptions } from './options.js';

/** The client options the `CORTEXOPS_PROMETHEUS_*` variables set (unset ones left out). */
export function prometheusOptionsFromConfig(config: PrometheusConfig): PrometheusClientOptions {
  const tls = { caFile: config.prometheusCaFile, certFile: config.prometheusCertFile, keyFile: config.prometheusKeyFile, serverName: config.prometheusServerName };
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  const tlsSet = defined(tls);
  return defined({
    baseUrl: config.prometheusUrl,
    timeoutMs: config.prometheusTimeoutMs,
    retries: config.prometheusRetries,
    tenant: config.prometheusTenant,
    bearerTokenFile: config.prometheusBearerTokenFile,
    username: config.prometheusUsername,
    passwordFile: config.prometheusPasswordFile,
    tls: Object.keys(tlsSet).length > 0 ? tlsSet : undefined,
  });
}

/**
 * The service's Prometheus client from its configuration. A setting the client refuses (two ways of authenticating,
 * TLS files with an http URL, a key without its certificate, a file that cannot be read or parsed) is a
 * `ConfigError` naming the variable, at start.
 */
export function prometheusClientFromConfig(config: PrometheusConfig, logger?: Logger): PrometheusClient {
  try {
    return PrometheusClient.create({ ...prometheusOptionsFromConfig(config), ...(logger ? { logger } : {}) });
  } catch (error) {
    if (!(error instanceof InvalidPrometheusOptionError)) throw error;
    throw new ConfigError([{ variable: PROMETHEUS_OPTION_VARIABLES[error.option] ?? error.option, problem: error.problem }]);
  }
}
