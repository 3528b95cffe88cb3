import { join } from 'node:path';
import { LOCAL_HOST } from '@cortexops/config';
import { PrometheusClient, type Series } from '@cortexops/prometheus';
import { launchPrivatePrometheus } from './private-prometheus.js';
import { httpOk } from './stack/probes.js';
import type { StackContext } from './stack/types.js';
import { VERSIONS } from './stack/versions.js';
import { freePort } from './testing.js';

const NAME = 'rules-prometheus';

export interface RulesPrometheusOptions {
  /** A Prometheus rule file (YAML), e.g. from `ruleFileFromPrometheusRules`. */
  readonly rules: string;
  /** `scrape_configs` entries, as Prometheus reads them. */
  readonly scrapeConfigs: readonly Record<string, unknown>[];
  /** Where alerts go: an Alertmanager's base URL. */
  readonly alertmanagerUrl: string;
  /** Scrape and rule evaluation interval (default `1s`). */
  readonly interval?: string;
  /** `global.external_labels`, added to every series and alert sent (kube-prometheus: `prometheus: monitoring/k8s`). */
  readonly externalLabels?: Readonly<Record<string, string>>;
}

/** One series of an instant query (the client's `Series`). */
export type PromSample = Series;

export interface PromAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly state: 'pending' | 'firing';
}

export interface RulesPrometheus {
  readonly url: string;
  /** An instant query (vector result). */
  query(promql: string): Promise<PromSample[]>;
  /** The alerts pending or firing now (`/api/v1/alerts`). */
  alerts(): Promise<PromAlert[]>;
  /** Stops the server (its data goes with the private stack context it ran in). */
  stop(): Promise<void>;
}

/**
 * A Prometheus of a test's own, with its rule file, scrape targets and Alertmanager: the stack's Prometheus binary
 * (same pinned package, installed once into the cache) run by the stack launcher in the private context `ctx`
 * (e.g. a `privateStack`'s), on a free port.
 */
export async function startRulesPrometheus(ctx: StackContext, options: RulesPrometheusOptions): Promise<RulesPrometheus> {
  const port = await freePort();
  const url = `http://${LOCAL_HOST}:${port}`;
  const interval = options.interval ?? '1s';
  const stop = await launchPrivatePrometheus(ctx, {
    name: NAME,
    description: `Prometheus ${VERSIONS.prometheus.version} with a test's rules`,
    port,
    files: () => ({ 'rules.yml': options.rules }),
    config: (dir) => ({
      global: { scrape_interval: interval, evaluation_interval: interval, external_labels: options.externalLabels ?? {} },
      alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(options.alertmanagerUrl).host] }] }] },
      rule_files: [join(dir, 'rules.yml')],
      scrape_configs: options.scrapeConfigs,
    }),
    probe: () => httpOk(`${url}/-/ready`),
  });
  const client = PrometheusClient.create({ baseUrl: url, timeoutMs: 5000, retries: 0 });
  return {
    url,
    query: (promql) => client.vector(promql),
    alerts: async () => ((await client.get('alerts')) as { alerts: PromAlert[] }).alerts,
    stop: async () => {
      await client.close();
      await stop();
    },
  };
}
