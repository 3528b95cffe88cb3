import { loadConfig, prometheusSpec } from '@cortexops/config';
import { prometheusClientFromConfig, type PrometheusClient } from '@cortexops/prometheus';
import type { StackContext } from './stack/types.js';

/**
 * The client every PromQL read of the tests goes through, with the settings the worker would read from the same
 * environment: the stack's Prometheus by default, or any Prometheus-compatible backend `CORTEXOPS_PROMETHEUS_URL`,
 * `_TENANT`, `_BEARER_TOKEN_FILE`, `_USERNAME`/`_PASSWORD_FILE` and `_CA_FILE`/... name.
 */
export function stackPrometheus(ctx: StackContext): PrometheusClient {
  return prometheusClientFromConfig(loadConfig(prometheusSpec, { CORTEXOPS_PROMETHEUS_TIMEOUT_MS: '10000', CORTEXOPS_PROMETHEUS_RETRIES: '1', ...ctx.env }));
}
