import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { LOCAL_HOST, loadServiceConfig } from '@cortexops/config';
import { type ApprovalRequest, HTTP_PATHS, type Incident, incidentWorkflowId, remediationStateQuery, TASK_QUEUES, WORKFLOW_TYPES } from '@cortexops/contracts';
import { runService, type ServiceHandle } from '@cortexops/observability';
import { AuditStore } from '@cortexops/audit';
import { createTestDatabase, createTestNamespace, ensureServers, freePort, type SignedRequest, SlackStub, temporalAddress } from '@cortexops/testkit';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { expect } from 'vitest';
import { startApprovals } from '../../src/approvals.js';
import { ApproverTokens } from '../../src/tokens.js';
import { buttonValue } from '../../src/slack-messages.js';
import { replanSignal, type StandInInput } from './workflow/definitions.js';

export { fixtureIncident } from '@cortexops/testkit';


export { clickPayload, signSlackRequest, SlackStub, type ClickOptions, type SignedRequest, type SlackCall } from '@cortexops/testkit';

// ---- the system under test: Temporal namespace, a worker running the stand-in workflow, approvals service ----

/**
 * A worker running the approvals tests' stand-in remediation workflow (`workflow/remediation.ts`, the contract's
 * update, query and validator semantics without activities) under the real workflow's type name and task queue.
 */
async function startStandInWorker(address: string, namespace: string): Promise<{ stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: TASK_QUEUES.remediation,
    workflowsPath: fileURLToPath(new URL('./workflow/remediation.ts', import.meta.url)),
    // TypeScript ESM imports name `./x.js` for the source `./x.ts`.
    bundlerOptions: { webpackConfigHook: (config) => ({ ...config, resolve: { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } } }) },
  });
  const running = worker.run();
  return {
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

export const SECRETS = {
  botToken: 'xoxb-test-bot-token-4f9a1c',
  signingSecret: 'test-signing-secret-8e1d0b6a',
  /** The worker's token: posts requests and notes, never decides. */
  apiToken: 'test-api-token-0123456789abcdef0123456789abcdef',
} as const;

/**
 * The approvals service's signing key for this test process (the private half in a file, as in production) and the
 * public half the stand-in workflow verifies with, as the real workflow does with the worker's settings.
 */
const signing = generateKeyPairSync('ed25519');
export const SIGNING_KEY_FILE = join(mkdtempSync(join(tmpdir(), 'cortexops-approvals-key-')), 'signing.pem');
writeFileSync(SIGNING_KEY_FILE, signing.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
export const VERIFY_KEY = signing.publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');

/** People with personal tokens in every harness (HTTP and CLI identities; Slack users are USERS). */
export const PEOPLE = { alice: 'alice@example.com', bob: 'bob@example.com', carol: 'carol@example.com' } as const;
export const APPROVAL_CHANNEL = 'C0APPROVALS';
export const USERS = { alice: 'U0ALICE', bob: 'U0BOB', mallory: 'U0MALLORY' } as const;
export const APPROVER_GROUP = 'S0ONCALL';

export interface Harness {
  readonly slack: SlackStub;
  readonly client: Client;
  readonly service: ServiceHandle;
  /** Stops the approvals service (SIGTERM path) and starts a new one on the same port, database and namespace. */
  restartService(): Promise<void>;
  /** The service's database (the tokens CLI is run against it). */
  readonly databaseUrl: string;
  /** The service's audit store (read side for assertions). */
  readonly audit: AuditStore;
  readonly baseUrl: string;
  readonly logs: () => string;
  /** The personal tokens of the service's database (issue more, revoke). */
  readonly tokens: ApproverTokens;
  /** The personal token of each of {@link PEOPLE}, issued at start. */
  tokenOf(name: string): string;
  /** The refused attempts the service kept in its audit store (kind `approval.refused`), oldest first. */
  refusals(): Promise<{ actor: string; incidentId?: string; payload: Record<string, unknown> }[]>;
  close(): Promise<void>;
}

/** `env` overrides or adds service variables (e.g. a lower refusal limit); `slack: false` starts the service without Slack. */
export async function startHarness(prefix: string, env: Record<string, string> = {}, options: { readonly slack?: boolean } = {}): Promise<Harness> {
  const ctx = await ensureServers(['temporal', 'postgres']);
  const namespace = await createTestNamespace(ctx, prefix);
  const database = await createTestDatabase(ctx, prefix);
  const slack = await SlackStub.start({ [APPROVER_GROUP]: [USERS.bob] });

  const worker = await startStandInWorker(temporalAddress(ctx), namespace);

  const connection = await Connection.connect({ address: temporalAddress(ctx) });
  const client = new Client({ connection, namespace });

  const logStream = new PassThrough();
  let logText = '';
  logStream.on('data', (chunk: Buffer) => {
    logText += chunk.toString('utf8');
  });
  const config = loadServiceConfig('approvals', {
    CORTEXOPS_TEMPORAL_PORT: ctx.env.CORTEXOPS_TEMPORAL_PORT,
    CORTEXOPS_TEMPORAL_NAMESPACE: namespace,
    CORTEXOPS_DATABASE_URL: database.url,
    CORTEXOPS_APPROVALS_PORT: String(await freePort()),
    CORTEXOPS_LOG_LEVEL: 'debug',
    ...(options.slack === false
      ? {}
      : {
          CORTEXOPS_SLACK_BOT_TOKEN: SECRETS.botToken,
          CORTEXOPS_SLACK_SIGNING_SECRET: SECRETS.signingSecret,
          CORTEXOPS_SLACK_CHANNEL: APPROVAL_CHANNEL,
          CORTEXOPS_SLACK_API_URL: `${slack.url}/api/`,
          CORTEXOPS_SLACK_RETRIES: '3',
          CORTEXOPS_SLACK_RETRY_MIN_MS: '20',
          CORTEXOPS_APPROVER_GROUP: APPROVER_GROUP,
        }),
    CORTEXOPS_SLACK_APPROVERS: USERS.alice,
    CORTEXOPS_APPROVALS_API_TOKEN: SECRETS.apiToken,
    CORTEXOPS_APPROVALS_SIGNING_KEY_FILE: SIGNING_KEY_FILE,
    ...env,
  });
  const startService = () => runService('approvals', config, (context) => startApprovals(config, context), { installSignalHandlers: false, logDestination: logStream });
  let service = await startService();
  const audit = await AuditStore.create({ databaseUrl: database.url, migrate: false });
  const tokens = await ApproverTokens.create({ databaseUrl: database.url, audit });
  const issued = new Map<string, string>();
  for (const name of Object.values(PEOPLE)) issued.set(name, (await tokens.issue({ name, expiresAt: new Date(Date.now() + 24 * 3600_000), by: 'test-admin' })).token);

  return {
    slack,
    client,
    get service() {
      return service;
    },
    restartService: async () => {
      await service.shutdown('test: restart');
      service = await startService();
    },
    audit,
    databaseUrl: database.url,
    tokens,
    tokenOf: (name) => {
      const token = issued.get(name);
      if (!token) throw new Error(`no token issued to ${name}`);
      return token;
    },
    baseUrl: `http://${LOCAL_HOST}:${config.port}`,
    logs: () => logText,
    refusals: async () => (await audit.query({ kinds: ['approval.refused'], limit: 1000 })).records,
    close: async () => {
      await service.shutdown('test over');
      await worker.stop();
      await connection.close();
      await slack.close();
      await tokens.close();
      await audit.close();
      await database.drop();
    },
  };
}

/** A plan hash nobody else has (the stand-in workflow only compares it). */
export function randomPlanHash(): string {
  return createHash('sha256').update(randomBytes(16)).digest('hex');
}

export function fixtureRequest(incident: Incident, timeoutMs: number, overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  const now = Date.now();
  const workflowId = incidentWorkflowId(incident.id);
  return {
    requestId: `${workflowId}/approval/1`,
    planHash: randomPlanHash(),
    incidentId: incident.id,
    workflowId,
    approvalsRequired: 1,
    summary: 'checkout pods crash looping <OOMKilled> & restarting',
    plan: {
      incidentId: incident.id,
      actions: [{ type: 'raise-memory-limit', kind: 'Deployment', namespace: 'demo', name: 'checkout', container: 'app', memory: '512Mi' }],
      rationale: 'containers are OOMKilled at the 256Mi limit',
      source: 'heuristic',
      rule: 'oom-killed',
      risk: 'high',
      verification: { checks: [{ type: 'rollout', name: 'rollout' }], stabilisationMs: 0, intervalMs: 1000, count: 1, failureLimit: 0, inconclusiveLimit: 0, minSamples: 1 },
      createdAt: new Date(now).toISOString(),
    },
    dryRunDiff: '- memory: 256Mi\n+ memory: 512Mi',
    policy: { allow: true, mode: 'approve', requireApproval: true, reasons: ['risk high requires a human', 'production namespace'], violations: [] },
    requestedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + timeoutMs).toISOString(),
    ...overrides,
  };
}

/** A remediation waiting for a decision: its workflow and the request it waits on. */
export interface Pending {
  readonly handle: WorkflowHandle;
  readonly request: ApprovalRequest;
}

export interface PendingOptions {
  /** Overrides of the request (e.g. `approvalsRequired: 2`, a critical plan). */
  readonly request?: Partial<ApprovalRequest>;
  /** How long the stand-in stays in APPLYING after an approval (a cancel then compensates). */
  readonly holdApplyingMs?: number;
}

/** Starts the stand-in remediation workflow waiting on a fresh request and waits until it waits for a decision. */
export async function startPendingWorkflow(client: Client, incident: Incident, approvalTimeoutMs: number, options: PendingOptions = {}): Promise<Pending> {
  const request = fixtureRequest(incident, approvalTimeoutMs, options.request);
  const input: StandInInput = { incident, test: { request, verifyKeys: [VERIFY_KEY], ...(options.holdApplyingMs === undefined ? {} : { holdApplyingMs: options.holdApplyingMs }) } };
  const handle = await client.workflow.start(WORKFLOW_TYPES.remediation, { taskQueue: TASK_QUEUES.remediation, workflowId: incidentWorkflowId(incident.id), args: [input] });
  await expect.poll(async () => (await handle.query(remediationStateQuery)).state, { timeout: 30_000 }).toBe('APPROVAL_PENDING');
  return { handle, request };
}

/** The plan changed while waiting: the workflow now waits on a new request (next id, another hash). */
export async function replan(pending: Pending): Promise<ApprovalRequest> {
  const round = Number(/\/approval\/(\d+)$/.exec(pending.request.requestId)?.[1] ?? '1') + 1;
  const request: ApprovalRequest = { ...pending.request, requestId: `${pending.request.workflowId}/approval/${round}`, planHash: randomPlanHash(), requestedAt: new Date().toISOString() };
  await pending.handle.signal(replanSignal, request);
  await expect.poll(async () => (await pending.handle.query(remediationStateQuery)).approvalRequest?.requestId, { timeout: 15_000 }).toBe(request.requestId);
  return request;
}

/** The body of `POST /v1/approvals/<incidentId>` deciding on `request`. */
export function decisionBody(request: ApprovalRequest, decision: 'approve' | 'reject', approver: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { requestId: request.requestId, planHash: request.planHash, decision, approver, ...extra };
}

/** The value the service writes on the request's buttons. */
export { buttonValue };

/** Headers with a bearer token (default: the worker's, which posts requests and notes). */
export function bearer(token: string = SECRETS.apiToken): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

export async function postApprovalRequest(baseUrl: string, request: ApprovalRequest): Promise<Response> {
  return fetch(`${baseUrl}${HTTP_PATHS.approvalRequests}`, { method: 'POST', headers: bearer(), body: JSON.stringify(request) });
}

export async function sendSigned(baseUrl: string, signed: SignedRequest): Promise<Response> {
  return fetch(`${baseUrl}${HTTP_PATHS.slackEvents}`, { method: 'POST', headers: signed.headers, body: signed.body });
}

/** How many decisions the workflow accepted, read from its event history. */
export async function acceptedUpdates(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
}
