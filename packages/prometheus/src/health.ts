import type { DependencyCheck } from '@cortexops/observability';
import type { PrometheusClient } from './client.js';

/**
 * The backend in a service's `/debug/healthz`: one `vector(1)` with the client's own settings (tenant, credentials,
 * TLS), so a rotated token that no longer works or an expired CA shows there with its reason. Not required: without
 * Prometheus measurements are inconclusive and end with a human, the worker keeps working.
 */
export function prometheusCheck(client: Pick<PrometheusClient, 'ping'>): DependencyCheck {
  return { name: 'prometheus', required: false, check: () => client.ping() };
}
