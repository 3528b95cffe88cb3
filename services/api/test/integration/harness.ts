import { randomBytes } from 'node:crypto';
import { LOCAL_HOST } from '@cortexops/config';
import { createTestDatabase, createTestNamespace, ensureServers, freePort, spawnService, type ServiceProcess, type TestDatabase } from '@cortexops/testkit';
import { runCli } from '../../src/cli.js';

export const READ_TOKEN = `test-api-read-token-${randomBytes(16).toString('hex')}`;

export interface ApiUnderTest {
  readonly api: ServiceProcess;
  readonly approvals: ServiceProcess;
  readonly db: TestDatabase;
  /** A port nothing listens on: the health target that is down. */
  readonly deadPort: number;
  stop(): Promise<void>;
}

/**
 * The api as its own process (as `make up` starts it) on a fresh database of the shared PostgreSQL, with the real
 * approvals service (its own process, same database, a fresh Temporal namespace) for manual actions, and an aggregated
 * health over the approvals service and a port where nothing answers.
 */
export async function startApiUnderTest(): Promise<ApiUnderTest> {
  const ctx = await ensureServers(['nats', 'temporal', 'postgres']);
  const db = await createTestDatabase(ctx, 'api');
  const namespace = await createTestNamespace(ctx, 'api');
  const shared = Object.fromEntries(['CORTEXOPS_NATS_PORT', 'CORTEXOPS_TEMPORAL_PORT', 'CORTEXOPS_POSTGRES_PORT'].map((v) => [v, ctx.env[v]]));
  const common = { ...shared, CORTEXOPS_DATABASE_URL: db.url, CORTEXOPS_TEMPORAL_NAMESPACE: namespace };
  const approvals = await spawnService('approvals', common);
  await approvals.waitForHealth((status) => status === 200);
  const deadPort = await freePort();
  const api = await spawnService('api', {
    ...common,
    CORTEXOPS_API_TOKEN: READ_TOKEN,
    CORTEXOPS_APPROVALS_URL: approvals.baseUrl,
    CORTEXOPS_API_HEALTH_TARGETS: `approvals=${approvals.baseUrl}/debug/healthz,gone=http://${LOCAL_HOST}:${deadPort}/healthz`,
  });
  await api.waitForHealth((status) => status === 200);
  return {
    api,
    approvals,
    db,
    deadPort,
    stop: async () => {
      await api.terminate();
      await approvals.terminate();
      await db.drop();
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
