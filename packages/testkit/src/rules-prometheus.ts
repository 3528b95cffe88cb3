import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_HOST } from '@cortexops/config';
import { installDebianPackage } from './stack/install.js';
import { createLauncher } from './stack/launcher.js';
import { httpOk } from './stack/probes.js';
import type { ServerDefinition, StackContext } from './stack/types.js';
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

export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

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

async function apiGet<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as { status: string; error?: string; data?: T };
  if (body.status !== 'success' || body.data === undefined) throw new Error(`${url}: ${body.error ?? body.status}`);
  return body.data;
}

/**
 * A Prometheus of a test's own, with its rule file, scrape targets and Alertmanager: the stack's Prometheus binary
 * (same pinned package, installed once into the cache) run by the stack launcher in the private context `ctx`
 * (e.g. a `privateStack`'s), on a free port.
 */
export async function startRulesPrometheus(ctx: StackContext, options: RulesPrometheusOptions): Promise<RulesPrometheus> {
  const port = await freePort();
  const url = `http://${LOCAL_HOST}:${port}`;
  const dir = join(ctx.dataDir, NAME);
  const interval = options.interval ?? '1s';
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, external_labels: options.externalLabels ?? {} },
    alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(options.alertmanagerUrl).host] }] }] },
    rule_files: [join(dir, 'rules.yml')],
    scrape_configs: options.scrapeConfigs,
  };
  let binary = '';
  const definition: ServerDefinition = {
    name: NAME,
    description: `Prometheus ${VERSIONS.prometheus.version} with a test's rules`,
    group: 'stack',
    ports: () => [{ variable: `${NAME} (a free test port)`, port }],
    install: async () => {
      binary = join(await installDebianPackage(ctx, VERSIONS.prometheus.package, VERSIONS.prometheus.version), 'usr', 'bin', 'prometheus');
    },
    prepare: async () => {
      mkdirSync(join(dir, 'storage'), { recursive: true });
      writeFileSync(join(dir, 'rules.yml'), options.rules);
      // JSON is YAML: Prometheus reads it as its configuration file.
      writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    },
    command: () => ({
      command: binary,
      args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'storage')}`, `--web.listen-address=${LOCAL_HOST}:${port}`],
    }),
    probe: () => httpOk(`${url}/-/ready`),
    endpoints: () => ({ ui: url }),
  };
  const launcher = createLauncher(ctx, [definition]);
  await launcher.up([NAME]);
  return {
    url,
    query: async (promql) => (await apiGet<{ result: PromSample[] }>(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`)).result,
    alerts: async () => (await apiGet<{ alerts: PromAlert[] }>(`${url}/api/v1/alerts`)).alerts,
    stop: async () => {
      await launcher.down([NAME]);
    },
  };
}
