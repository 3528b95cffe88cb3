import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOCAL_HOST } from '@cortexops/config';
import { apiserverUrl, createTestDatabase, createTestNamespace, ensureServers, freePort, kubeconfigPaths, spawnService, type ServiceProcess, type TestDatabase, natsEnv } from '@cortexops/testkit';
import { type ApprovalRequest, incidentWorkflowId, TASK_QUEUES, WORKFLOW_TYPES, type WorkflowState } from '@cortexops/contracts';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { runCli } from '../../src/cli.js';
import type { WaitingInput } from './workflow/waiting.js';

export const READ_TOKEN = `test-api-read-token-${randomBytes(16).toString('hex')}`;

export interface ApiUnderTest {
  readonly api: ServiceProcess;
  readonly approvals: ServiceProcess;
  readonly db: TestDatabase;
  /** A port nothing listens on: the health target that is down. */
  readonly deadPort: number;
  /** Starts a workflow for `incidentId` waiting for approval of one plan (`workflow/waiting.ts`); resolves with its final state. */
  startWaiting(incidentId: string, planHash: string): Promise<{ result(): Promise<WorkflowState> }>;
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
  // NATS as the api's own user (URL, seed, CA once the stack's NATS has accounts); approvals does not read them.
  const common = { ...shared, ...natsEnv(ctx, 'api'), CORTEXOPS_DATABASE_URL: db.url, CORTEXOPS_TEMPORAL_NAMESPACE: namespace };
  // The approvals service signs every decision and cancel it delivers; without its key it delivers none (503).
  const keyDir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const keyFile = join(keyDir, 'approvals-signing.pem');
  const keys = generateKeyPairSync('ed25519');
  writeFileSync(keyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  // The raw 32 bytes of the public key, as the workflow verifies with (the end of its SPKI DER).
  const verifyKey = keys.publicKey.export({ type: 'spki', format: 'der' }).subarray(-32).toString('hex');
  const temporal = await startWaitingWorker(`${LOCAL_HOST}:${ctx.env.CORTEXOPS_TEMPORAL_PORT ?? '7233'}`, namespace);
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
    startWaiting: async (incidentId, planHash) => {
      const workflowId = incidentWorkflowId(incidentId);
      const now = Date.now();
      const request: ApprovalRequest = {
        requestId: `${workflowId}/approval/1`,
        planHash,
        incidentId,
        workflowId,
        approvalsRequired: 1,
        summary: 'raise the memory limit of Deployment demo/checkout to 384Mi',
        plan: { incidentId, actions: [{ type: 'raise-memory-limit', kind: 'Deployment', namespace: 'demo', name: 'checkout', container: 'app', memory: '384Mi' }], rationale: 'OOMKilled', source: 'heuristic', risk: 'medium', verification: { checks: [{ type: 'rollout', name: 'rollout' }], stabilisationMs: 0, intervalMs: 1000, count: 1, failureLimit: 0, inconclusiveLimit: 0, minSamples: 1 }, createdAt: new Date(now).toISOString() },
        dryRunDiff: '-  memory: 256Mi\n+  memory: 384Mi',
        policy: { allow: true, mode: 'approve', requireApproval: true, reasons: ['approve mode'], violations: [] },
        requestedAt: new Date(now).toISOString(),
        expiresAt: new Date(now + 10 * 60_000).toISOString(),
      };
      const input: WaitingInput = { incident: { id: incidentId }, request, verifyKeys: [verifyKey] };
      const handle = await temporal.client.workflow.start(WORKFLOW_TYPES.remediation, { taskQueue: TASK_QUEUES.remediation, workflowId, args: [input] });
      return { result: () => handle.result() as Promise<WorkflowState> };
    },
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
      await temporal.stop();
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

/** A worker running `workflow/waiting.ts` in the test's Temporal namespace, and a client of it. */
async function startWaitingWorker(address: string, namespace: string): Promise<{ client: Client; stop(): Promise<void> }> {
  const native = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: native,
    namespace,
    taskQueue: TASK_QUEUES.remediation,
    workflowsPath: fileURLToPath(new URL('./workflow/waiting.ts', import.meta.url)),
    // TypeScript ESM imports name `./x.js` for the source `./x.ts`.
    bundlerOptions: { webpackConfigHook: (config) => ({ ...config, resolve: { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } } }) },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  return {
    client: new Client({ connection, namespace }),
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
      await native.close();
    },
  };
}
