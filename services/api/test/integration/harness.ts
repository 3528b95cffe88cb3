import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOCAL_HOST } from '@cortexops/config';
import { apiserverUrl, createTestDatabase, createTestNamespace, ensureServers, freePort, kubeconfigPaths, spawnService, type ServiceProcess, type TestDatabase } from '@cortexops/testkit';
import { runCli } from '../../src/cli.js';

export const READ_TOKEN = `test-api-read-token-${randomBytes(16).toString('hex')}`;

export interface ApiUnderTest {
  readonly api: ServiceProcess;
  readonly approvals: ServiceProcess;
  readonly db: TestDatabase;
  /** A port nothing listens on: the health target that is down. */
  readonly deadPort: number;
  /** Issues a personal approver token with the approvals CLI (`cortexops-approve tokens create`), as an administrator would. */
  issueToken(name: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The api as its own process (as `make up` starts it) on a fresh database of the shared PostgreSQL, with the real
 * approvals service (its own process, same database, a fresh Temporal namespace) for manual actions, and an aggregated
 * health over the approvals service, a port where nothing answers and the local Kubernetes API server (TLS, its CA).
 */
export async function startApiUnderTest(): Promise<ApiUnderTest> {
  const ctx = await ensureServers(['nats', 'temporal', 'postgres', 'kube-apiserver']);
  const db = await createTestDatabase(ctx, 'api');
  const namespace = await createTestNamespace(ctx, 'api');
  const shared = Object.fromEntries(['CORTEXOPS_NATS_PORT', 'CORTEXOPS_TEMPORAL_PORT', 'CORTEXOPS_POSTGRES_PORT'].map((v) => [v, ctx.env[v]]));
  const common = { ...shared, CORTEXOPS_DATABASE_URL: db.url, CORTEXOPS_TEMPORAL_NAMESPACE: namespace };
  // The approvals service signs every decision and cancel it delivers; without its key it delivers none (503).
  const keyDir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const keyFile = join(keyDir, 'approvals-signing.pem');
  writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const approvals = await spawnService('approvals', { ...common, CORTEXOPS_APPROVALS_SIGNING_KEY_FILE: keyFile });
  await approvals.waitForHealth((status) => status === 200);
  const deadPort = await freePort();
  const api = await spawnService('api', {
    ...common,
    CORTEXOPS_API_TOKEN: READ_TOKEN,
    CORTEXOPS_APPROVALS_URL: approvals.baseUrl,
    CORTEXOPS_API_HEALTH_TARGETS: `approvals=${approvals.baseUrl}/debug/healthz,gone=http://${LOCAL_HOST}:${deadPort}/healthz,kube-apiserver=${apiserverUrl(ctx)}/readyz`,
    CORTEXOPS_API_HEALTH_CA_FILE: kubeconfigPaths(ctx).caCert,
  });
  await api.waitForHealth((status) => status === 200);
  return {
    api,
    approvals,
    db,
    deadPort,
    issueToken: async (name) => {
      const bin = join(ctx.repoRoot, 'services', 'approvals', 'bin', 'cortexops-approve.js');
      const { stdout } = await promisify(execFile)(process.execPath, [bin, 'tokens', 'create', '--name', name, '--expires-in', '1', '--by', 'test-admin'], {
        env: { ...process.env, CORTEXOPS_DATABASE_URL: db.url },
      });
      return stdout.trim();
    },
    stop: async () => {
      await api.terminate();
      await approvals.terminate();
      await db.drop();
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}

export interface Answer<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly text: string;
  readonly contentType: string | null;
}

export async function request<T = unknown>(base: string, path: string, options: { method?: 'GET' | 'POST'; token?: string | null; body?: unknown; rawBody?: string } = {}): Promise<Answer<T>> {
  const token = options.token === undefined ? READ_TOKEN : options.token;
  const response = await fetch(`${base}${path}`, {
    method: options.method ?? 'GET',
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(options.body !== undefined || options.rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : options.rawBody !== undefined ? { body: options.rawBody } : {}),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Markdown and other text stay text.
  }
  return { status: response.status, body: body as T, text, contentType: response.headers.get('content-type') };
}

/** Runs the CLI in this process against `apiUrl`, capturing what it prints. */
export async function cli(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
