import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LOCAL_HOST, servicePortVar, loadConfig } from '@cortexops/config';
import { SERVICE_NAMES } from '@cortexops/contracts';
import { stackPorts } from '../context.js';
import { installDebianPackage } from '../install.js';
import { httpOk } from '../probes.js';
import { syncRuleFiles } from './prometheus-rule-files.js';
import { webhookTokenFile } from '../tokens.js';
import type { ServerDefinition, StackContext } from '../types.js';
import { VERSIONS } from '../versions.js';

const RELOAD_TIMEOUT_MS = 10_000;
/** The alert rules every Prometheus of CortexOps loads (`rule_files` of deploy/prometheus/*.yml). */
export const PROMETHEUS_RULES_DIR = 'deploy/prometheus/rules';

/** Variables the deploy/ configuration templates may use as `${NAME}`. */
export function templateVariables(ctx: StackContext): Record<string, string> {
  const p = stackPorts(ctx);
  const vars: Record<string, string> = {
    HOST: LOCAL_HOST,
    NATS_MONITOR_PORT: String(p.natsMonitorPort),
    PROMETHEUS_PORT: String(p.prometheusPort),
    ALERTMANAGER_PORT: String(p.alertmanagerPort),
    KUBE_STATE_METRICS_PORT: String(p.kubeStateMetricsPort),
    WEBHOOK_TOKEN_FILE: webhookTokenFile(ctx),
  };
  for (const service of SERVICE_NAMES) {
    const { port } = loadConfig({ port: servicePortVar(service) }, ctx.env);
    vars[`${service.toUpperCase()}_PORT`] = String(port);
  }
  return vars;
}

/** Renders a configuration template from deploy/ into the server's data directory; true when the file changed. */
export function renderTemplate(ctx: StackContext, templatePath: string, outputPath: string): boolean {
  const vars = templateVariables(ctx);
  const text = readFileSync(join(ctx.repoRoot, templatePath), 'utf8').replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`${templatePath}: unknown template variable ${whole}`);
    return value;
  });
  if (existsSync(outputPath) && readFileSync(outputPath, 'utf8') === text) return false;
  writeFileSync(outputPath, text);
  return true;
}

/** Asks a running Prometheus or Alertmanager to read its configuration again (`POST /-/reload`). */
async function reload(url: string): Promise<void> {
  const response = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(RELOAD_TIMEOUT_MS) });
  const body = await response.text();
  if (!response.ok) throw new Error(`${url}/-/reload answered ${response.status}: ${body.trim()}`);
}

/**
 * Debian's Alertmanager reads its default notification templates from a path fixed at build time.
 * The package is unpacked into the cache, so that path is linked to the cached copy (root only).
 */
function linkDebianTemplates(ctx: StackContext): void {
  const fixed = '/usr/share/prometheus/alertmanager';
  if (existsSync(join(fixed, 'default.tmpl'))) return;
  const cached = join(ctx.toolsDir, `${VERSIONS.alertmanager.package}-${VERSIONS.alertmanager.version}`, fixed);
  if (process.getuid?.() !== 0) {
    throw new Error(`alertmanager needs its templates at ${fixed}; run once as root: mkdir -p ${dirname(fixed)} && ln -s ${cached} ${fixed}`);
  }
  mkdirSync(dirname(fixed), { recursive: true });
  symlinkSync(cached, fixed);
}

interface PrometheusLikeOptions {
  readonly name: string;
  readonly description: string;
  readonly version: { readonly package: string; readonly version: string };
  readonly binary: string;
  readonly template: string;
  readonly portVariable: 'CORTEXOPS_PROMETHEUS_PORT' | 'CORTEXOPS_ALERTMANAGER_PORT';
  readonly port: (ctx: StackContext) => number;
  readonly args: (ctx: StackContext, configFile: string, dataDir: string) => string[];
  readonly beforeStart?: (ctx: StackContext) => void;
  /** Copies further files the configuration names (rule files) beside it; true when one changed. */
  readonly syncFiles?: (ctx: StackContext, dir: string) => boolean;
}

/** Prometheus and Alertmanager share their shape: a Debian binary, a rendered config, `/-/ready`. */
function prometheusLike(o: PrometheusLikeOptions): ServerDefinition {
  const dir = (ctx: StackContext) => join(ctx.dataDir, o.name);
  const configFile = (ctx: StackContext) => join(dir(ctx), `${o.name}.yml`);
  const url = (ctx: StackContext) => `http://${LOCAL_HOST}:${o.port(ctx)}`;
  return {
    name: o.name,
    description: o.description,
    group: 'stack',
    ports: (ctx) => [{ variable: o.portVariable, port: o.port(ctx) }],
    install: async (ctx) => {
      await installDebianPackage(ctx, o.version.package, o.version.version);
    },
    prepare: async (ctx) => {
      mkdirSync(join(dir(ctx), 'storage'), { recursive: true });
      renderTemplate(ctx, o.template, configFile(ctx));
      o.syncFiles?.(ctx, dir(ctx));
      o.beforeStart?.(ctx);
    },
    command: (ctx) => ({
      command: join(ctx.toolsDir, `${o.version.package}-${o.version.version}`, 'usr', 'bin', o.binary),
      args: o.args(ctx, configFile(ctx), join(dir(ctx), 'storage')),
    }),
    probe: (ctx) => httpOk(`${url(ctx)}/-/ready`),
    // A server left running by an earlier `up` gets a configuration (a new scrape job) or rules that changed since.
    afterStart: async (ctx) => {
      const rendered = renderTemplate(ctx, o.template, configFile(ctx));
      const synced = o.syncFiles?.(ctx, dir(ctx)) ?? false;
      if (rendered || synced) await reload(url(ctx));
    },
    endpoints: (ctx) => ({ ui: url(ctx) }),
  };
}

export const prometheus = prometheusLike({
  name: 'prometheus',
  description: `Prometheus ${VERSIONS.prometheus.version}`,
  version: VERSIONS.prometheus,
  binary: 'prometheus',
  template: 'deploy/prometheus/prometheus.local.yml',
  syncFiles: (ctx, dir) => syncRuleFiles(join(ctx.repoRoot, PROMETHEUS_RULES_DIR), join(dir, 'rules')),
  portVariable: 'CORTEXOPS_PROMETHEUS_PORT',
  port: (ctx) => stackPorts(ctx).prometheusPort,
  args: (ctx, config, storage) => [
    `--config.file=${config}`,
    `--storage.tsdb.path=${storage}`,
    `--web.listen-address=${LOCAL_HOST}:${stackPorts(ctx).prometheusPort}`,
    '--web.enable-lifecycle',
    '--storage.tsdb.retention.time=7d',
  ],
});

export const alertmanager = prometheusLike({
  name: 'alertmanager',
  description: `Alertmanager ${VERSIONS.alertmanager.version}`,
  version: VERSIONS.alertmanager,
  binary: 'prometheus-alertmanager',
  template: 'deploy/alertmanager/alertmanager.local.yml',
  portVariable: 'CORTEXOPS_ALERTMANAGER_PORT',
  port: (ctx) => stackPorts(ctx).alertmanagerPort,
  args: (ctx, config, storage) => [
    `--config.file=${config}`,
    `--storage.path=${storage}`,
    `--web.listen-address=${LOCAL_HOST}:${stackPorts(ctx).alertmanagerPort}`,
    // A single local instance: no gossip cluster port.
    '--cluster.listen-address=',
  ],
  beforeStart: linkDebianTemplates,
});
