import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadServiceConfig } from '@cortexops/config';
import { HTTP_PATHS, SEARCH_ATTRIBUTES, SERVICE_NAMES } from '@cortexops/contracts';
import { REPO_ROOT } from './stack/context.js';

/**
 * No Docker engine runs where the tests run, so docker-compose.yml is checked by reading it:
 * every service, port, dependency, mounted file and service configuration.
 */
interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: string[] | Record<string, { condition: string }>;
  volumes?: string[];
  healthcheck?: unknown;
  command?: string[];
}
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
const services = compose.services;
const dependenciesOf = (s: ComposeService) => (Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}));

describe('docker-compose — the same system on Docker', () => {
  it('runs every server of the design and every service', () => {
    const expected = ['nats', 'postgres', 'temporal', 'temporal-ui', 'qdrant', 'prometheus', 'alertmanager', 'grafana', ...SERVICE_NAMES];
    expect(Object.keys(services)).toEqual(expect.arrayContaining(expected));
    for (const [name, service] of Object.entries(services)) expect(service.image ?? service.build, name).toBeTruthy();
  });

  it('has dependencies that exist, and health checks wherever a dependant waits for health', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of dependenciesOf(service)) {
        expect(services[dependency], `${name} depends on ${dependency}`).toBeDefined();
        const condition = Array.isArray(service.depends_on) ? undefined : service.depends_on?.[dependency]?.condition;
        if (condition === 'service_healthy') expect(services[dependency]?.healthcheck, `${dependency} needs a healthcheck`).toBeDefined();
      }
    }
  });

  it('publishes each host port once', () => {
    const hostPorts = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0]));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('mounts files that exist and volumes that are declared', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (source.startsWith('./')) expect(existsSync(join(REPO_ROOT, source)), `${name} mounts ${source}`).toBe(true);
        else expect(compose.volumes, `${name} uses volume ${source}`).toHaveProperty(source);
      }
    }
  });

  it.each(SERVICE_NAMES)('gives %s a configuration that passes its own validation, on the port it publishes', (name) => {
    const service = services[name];
    expect(service?.environment?.CORTEXOPS_SERVICE).toBe(name);
    const config = loadServiceConfig(name, service?.environment ?? {});
    expect(service?.ports).toContain(`${config.port}:${config.port}`);
    expect(config.httpHost).toBe('0.0.0.0');
    expect(dependenciesOf(service ?? {})).toEqual(expect.arrayContaining(['natsUrl' in config ? 'nats' : [], 'databaseUrl' in config ? 'postgres' : []].flat()));
  });

  it('scrapes every service where it listens, and sends alerts to the ingestion webhook', () => {
    const prometheus = parse(read('deploy/prometheus/prometheus.compose.yml')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const targets = prometheus.scrape_configs.find((j) => j.job_name === 'cortexops')?.static_configs.flatMap((c) => c.targets) ?? [];
    expect(targets.map((t) => t.split(':')[0]).sort()).toEqual([...SERVICE_NAMES].sort());
    for (const target of targets) {
      const [host, port] = target.split(':');
      expect(services[host ?? '']?.ports, target).toContain(`${port}:${port}`);
    }
    const alertmanager = parse(read('deploy/alertmanager/alertmanager.compose.yml')) as { receivers: { webhook_configs: { url: string }[] }[] };
    const url = new URL(alertmanager.receivers[0]?.webhook_configs[0]?.url ?? '');
    expect(url.hostname).toBe('ingestion');
    expect(url.pathname).toBe(HTTP_PATHS.alertmanagerWebhook);
    expect(services.ingestion?.ports).toContain(`${url.port}:${url.port}`);
  });

  it('has Alertmanager send the bearer token the ingestion webhook demands: one file, made once, read by both', () => {
    const alertmanager = parse(read('deploy/alertmanager/alertmanager.compose.yml')) as { receivers: { webhook_configs: { http_config?: { authorization?: { type?: string; credentials_file?: string } } }[] }[] };
    const authorization = alertmanager.receivers[0]?.webhook_configs[0]?.http_config?.authorization;
    expect(authorization?.type).toBe('Bearer');
    const tokenFile = authorization?.credentials_file ?? '';
    expect(services.ingestion?.environment?.CORTEXOPS_INGESTION_WEBHOOK_TOKEN_FILE).toBe(tokenFile);
    const mountOf = (name: string) => (services[name]?.volumes ?? []).find((v) => tokenFile.startsWith(`${v.split(':')[1] ?? '-'}/`));
    const [ingestionMount, alertmanagerMount, writerMount] = ['ingestion', 'alertmanager', 'webhook-token'].map(mountOf);
    expect(ingestionMount?.split(':')[0]).toBe(writerMount?.split(':')[0]);
    expect(alertmanagerMount?.split(':')[0]).toBe(writerMount?.split(':')[0]);
    expect([ingestionMount, alertmanagerMount].every((m) => m?.endsWith(':ro'))).toBe(true);
    for (const reader of ['ingestion', 'alertmanager']) expect(dependenciesOf(services[reader] ?? {})).toContain('webhook-token');
  });

  it('registers the search attributes the workflows use', () => {
    const setup = JSON.stringify(services['temporal-setup']?.command);
    for (const attribute of Object.keys(SEARCH_ATTRIBUTES)) expect(setup).toContain(attribute);
  });

  it('builds the services from one Dockerfile with the pinned pnpm', () => {
    const dockerfile = read('Dockerfile');
    const pinned = (JSON.parse(read('package.json')) as { engines: { pnpm: string } }).engines.pnpm;
    expect(dockerfile).toContain(`pnpm@${pinned}`);
    expect(dockerfile).toContain('--frozen-lockfile');
    expect(dockerfile).toMatch(/services\/\$\{CORTEXOPS_SERVICE/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('provisions Grafana with the Prometheus datasource and a dashboard over the cortexops_ metrics', () => {
    // Row panels carry no targets.
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/cortexops-overview.json')) as { panels: { targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const metric of ['cortexops_events_ingested_total', 'cortexops_correlation_latency_seconds', 'cortexops_workflows_total', 'cortexops_llm_tokens_total']) {
      expect(exprs).toContain(metric);
    }
    expect(read('deploy/grafana/provisioning/datasources/prometheus.yml')).toContain('http://prometheus:9090');
  });
});
