import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_HOST, loadConfig, servicePortVar } from '@cortexops/config';
import { HTTP_PATHS, type ServiceName } from '@cortexops/contracts';
import { stackPorts } from '../context.js';
import { httpOk } from '../probes.js';
import { DEMO_NAMESPACE, kubeconfigPaths } from './kubernetes/paths.js';
import { embeddingModelDir, installEmbeddingModel } from '../embedding-model.js';
import { writeLocalPolicyData } from '../local-policy.js';
import { generatedToken, webhookTokenFile } from '../tokens.js';
import { natsEnv } from '../nats-auth.js';
import { postgresRoleUrl } from './postgres.js';
import type { ServerDefinition, StackContext } from '../types.js';

/** The stack servers each CortexOps service needs before it can report healthy. */
const SERVICE_DEPENDENCIES: Record<ServiceName, readonly string[]> = {
  // The controller manager writes the ingestion watcher's kubeconfig (and starts the API server first).
  ingestion: ['nats', 'kube-controller-manager'],
  correlator: ['nats', 'temporal'],
  // The worker changes the local cluster with its own kubeconfig (written by the controller manager) and verifies
  // against Prometheus, which scrapes kube-state-metrics (kwok runs the pods it reports).
  worker: ['nats', 'temporal', 'postgres', 'prometheus', 'kube-state-metrics', 'kube-controller-manager', 'kwok'],
  approvals: ['temporal', 'postgres'],
  api: ['nats', 'temporal', 'postgres'],
};

/**
 * Verification timings for the local stack: its Prometheus scrapes kube-state-metrics every 5 s, so a change
 * settles for 10 s, then four measurements 5 s apart of which two must succeed (a rate needs two scrapes of the new
 * pods). Production defaults (60 s, 15 s, 4, 3) are in packages/config.
 */
const LOCAL_VERIFICATION = {
  CORTEXOPS_VERIFY_STABILISATION_MS: '10000',
  CORTEXOPS_VERIFY_INTERVAL_MS: '5000',
  CORTEXOPS_VERIFY_COUNT: '4',
  CORTEXOPS_VERIFY_MIN_SAMPLES: '2',
} as const;

/** The bearer token the worker posts approval requests with and the approvals service checks (`approvals-api-token`). */
export function approvalsApiToken(ctx: StackContext): string {
  return generatedToken(ctx, 'CORTEXOPS_APPROVALS_API_TOKEN', 'approvals-api-token');
}

/** The api's read token (`api-token`): what `cortexops incidents|incident|review|verify` present. */
export function apiReadToken(ctx: StackContext): string {
  return generatedToken(ctx, 'CORTEXOPS_API_TOKEN', 'api-token');
}

/**
 * The approvals service's Ed25519 signing key (the workflow takes only decisions signed with it): generated once per
 * cache (`<cache>/data/services/approvals-signing-key.pem`, PKCS#8, mode 0600), never printed. The worker gets its
 * public half. `CORTEXOPS_APPROVALS_SIGNING_KEY_FILE` in the stack's environment takes precedence.
 */
export function approvalsSigningKeyFile(ctx: StackContext): string {
  const configured = ctx.env.CORTEXOPS_APPROVALS_SIGNING_KEY_FILE;
  if (configured) return configured;
  const dir = join(ctx.dataDir, 'services');
  const file = join(dir, 'approvals-signing-key.pem');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  }
  return file;
}

/** The public half of {@link approvalsSigningKeyFile}, as the worker's CORTEXOPS_APPROVALS_VERIFY_KEYS takes it (base64 SPKI). */
export function approvalsVerifyKey(ctx: StackContext): string {
  return createPublicKey(createPrivateKey(readFileSync(approvalsSigningKeyFile(ctx)))).export({ format: 'der', type: 'spki' }).toString('base64');
}

const servicePort = (ctx: StackContext, service: ServiceName) => loadConfig({ port: servicePortVar(service) }, ctx.env).port;

/** The stack's own value of a variable unless the stack's environment sets it. */
const orEnv = (ctx: StackContext, values: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(values).map(([name, value]) => [name, ctx.env[name] ?? value]));

/**
 * What a service gets on top of the stack's environment (each overridable there): the local cluster for the ingestion
 * watcher; for the worker its own kubeconfig, NATS, Prometheus, the approvals service and their shared token, the
 * demo namespace as a development environment enrolled `auto`, short verification and the approvals service's public
 * key; for the approvals service the same token and the signing key.
 */
const SERVICE_ENV: Partial<Record<ServiceName, (ctx: StackContext) => Record<string, string>>> = {
  // Each service connects to NATS as its own user (least privilege, stack/nats-auth.ts), over TLS.
  ingestion: (ctx) => ({ ...natsEnv(ctx, 'ingestion'), ...orEnv(ctx, { CORTEXOPS_KUBECONFIG: kubeconfigPaths(ctx).ingestion, CORTEXOPS_INGESTION_WEBHOOK_TOKEN_FILE: webhookTokenFile(ctx) }) }),
  correlator: (ctx) => natsEnv(ctx, 'correlator'),
  worker: (ctx) => {
    const ports = stackPorts(ctx);
    return {
      ...natsEnv(ctx, 'worker'),
      ...orEnv(ctx, {
        CORTEXOPS_WORKER_KUBECONFIG: kubeconfigPaths(ctx).worker,
        CORTEXOPS_DATABASE_URL: postgresRoleUrl(ctx, 'app'),
        CORTEXOPS_PROMETHEUS_URL: `http://${LOCAL_HOST}:${ports.prometheusPort}`,
        CORTEXOPS_APPROVALS_URL: `http://${LOCAL_HOST}:${servicePort(ctx, 'approvals')}`,
        // The incident memory: the embedded store in PostgreSQL, the local model (installed with the worker), the runbooks.
        CORTEXOPS_EMBEDDING_MODEL_DIR: embeddingModelDir(ctx),
        CORTEXOPS_RUNBOOKS_DIR: join(ctx.repoRoot, 'deploy', 'runbooks'),
        CORTEXOPS_ENVIRONMENTS: `${DEMO_NAMESPACE}=development`,
        CORTEXOPS_POLICY_DATA: writeLocalPolicyData(ctx),
        ...LOCAL_VERIFICATION,
      }),
      CORTEXOPS_APPROVALS_API_TOKEN: approvalsApiToken(ctx),
      CORTEXOPS_APPROVALS_VERIFY_KEYS: ctx.env.CORTEXOPS_APPROVALS_VERIFY_KEYS ?? approvalsVerifyKey(ctx),
    };
  },
  approvals: (ctx) => ({
    ...orEnv(ctx, { CORTEXOPS_DATABASE_URL: postgresRoleUrl(ctx, 'app') }),
    CORTEXOPS_APPROVALS_API_TOKEN: approvalsApiToken(ctx),
    CORTEXOPS_APPROVALS_SIGNING_KEY_FILE: approvalsSigningKeyFile(ctx),
  }),
  // Every service that reads or writes the audit store connects as the application role (postgres.ts).
  api: (ctx) => ({
    ...natsEnv(ctx, 'api'),
    ...orEnv(ctx, { CORTEXOPS_DATABASE_URL: postgresRoleUrl(ctx, 'app'), CORTEXOPS_API_HEALTH_CA_FILE: kubeconfigPaths(ctx).caCert }),
    CORTEXOPS_API_TOKEN: apiReadToken(ctx),
  }),
};

function serviceServer(service: ServiceName): ServerDefinition {
  const variable = servicePortVar(service).name;
  return {
    name: service,
    description: `CortexOps ${service} service`,
    group: 'services',
    dependsOn: SERVICE_DEPENDENCIES[service],
    ports: (ctx) => [{ variable, port: servicePort(ctx, service) }],
    // The worker embeds incidents for its memory with the local model (packages/knowledge).
    install: async (ctx) => {
      if (service === 'worker') await installEmbeddingModel(ctx);
    },
    command: (ctx) => ({
      command: process.execPath,
      args: ['--import', 'tsx', join(ctx.repoRoot, 'services', service, 'src', 'main.ts')],
      cwd: ctx.repoRoot,
      env: SERVICE_ENV[service]?.(ctx) ?? {},
    }),
    probe: (ctx) => httpOk(`http://${LOCAL_HOST}:${servicePort(ctx, service)}${HTTP_PATHS.health}`),
    endpoints: (ctx) => {
      const base = `http://${LOCAL_HOST}:${servicePort(ctx, service)}`;
      return { health: `${base}${HTTP_PATHS.health}`, metrics: `${base}${HTTP_PATHS.metrics}` };
    },
  };
}

export const ingestion = serviceServer('ingestion');
export const correlator = serviceServer('correlator');
export const worker = serviceServer('worker');
export const approvals = serviceServer('approvals');
export const api = serviceServer('api');
