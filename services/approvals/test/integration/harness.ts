import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { LOCAL_HOST, loadServiceConfig } from '@cortexops/config';
import { type ApprovalRequest, HTTP_PATHS, type Incident, incidentWorkflowId, remediationStateQuery, TASK_QUEUES, WORKFLOW_TYPES } from '@cortexops/contracts';
import { runService, type ServiceHandle } from '@cortexops/observability';
import { AuditStore } from '@cortexops/audit';
import { createTestDatabase, createTestNamespace, ensureServers, freePort, temporalAddress } from '@cortexops/testkit';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { expect } from 'vitest';
import { startApprovals } from '../../src/approvals.js';
import { buttonValue } from '../../src/slack-messages.js';
import { replanSignal, type StandInInput } from './workflow/definitions.js';

export { fixtureIncident } from '@cortexops/testkit';


// ---- a local server speaking Slack's Web API (and response_url) wire format -------------------------

export interface SlackCall {
  readonly method: string;
  readonly body: Record<string, unknown>;
  readonly authorization: string | undefined;
  /** The HTTP status the stub answered with. */
  readonly status: number;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a Web API call as the WebClient sends it: form-encoded, nested values as JSON strings. */
function parseSlackBody(contentType: string | undefined, raw: string): Record<string, unknown> {
  if (contentType?.includes('application/json')) return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    out[key] = key === 'blocks' || key === 'attachments' ? JSON.parse(value) : value;
  }
  return out;
}

export class SlackStub {
  readonly calls: SlackCall[] = [];
  /** Every Web API call answers 503 while set. */
  down = false;
  private readonly failures = new Map<string, number>();
  private tsCounter = 1000;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly groups: Readonly<Record<string, readonly string[]>>,
  ) {}

  static async start(groups: Readonly<Record<string, readonly string[]>>): Promise<SlackStub> {
    const port = await freePort();
    const server = createServer();
    const stub = new SlackStub(server, `http://${LOCAL_HOST}:${port}`, groups);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void stub.serve(req, res.writeHead.bind(res), (body) => res.end(body));
    });
    await new Promise<void>((resolve) => server.listen(port, LOCAL_HOST, resolve));
    return stub;
  }

  /** The next `count` calls of `method` answer 503. */
  failNext(method: string, count: number): void {
    this.failures.set(method, count);
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Ephemeral messages sent through a response_url. */
  responses(): SlackCall[] {
    return this.calls.filter((c) => c.method.startsWith('response/'));
  }

  responseUrl(): string {
    return `${this.url}/response/${randomBytes(6).toString('hex')}`;
  }

  private async serve(req: IncomingMessage, writeHead: (status: number, headers?: Record<string, string>) => void, end: (body?: string) => void): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', this.url).pathname.replace(/^\//, '');
    const method = path.replace(/^api\//, '');
    const body = parseSlackBody(req.headers['content-type'], raw);
    const record = (status: number) => this.calls.push({ method, body, authorization: req.headers.authorization, status });
    if (path.startsWith('response/')) {
      record(200);
      writeHead(200, { 'content-type': 'text/plain' });
      end('ok');
      return;
    }
    const failing = this.failures.get(method) ?? 0;
    if (this.down || failing > 0) {
      if (failing > 0) this.failures.set(method, failing - 1);
      record(503);
      writeHead(503, { 'content-type': 'text/plain' });
      end('service unavailable');
      return;
    }
    record(200);
    writeHead(200, { 'content-type': 'application/json' });
    end(JSON.stringify(this.answer(method, body)));
  }

  private answer(method: string, body: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'chat.postMessage':
        return { ok: true, channel: body['channel'], ts: `17000${this.tsCounter++}.000100`, message: { text: body['text'], blocks: body['blocks'] } };
      case 'chat.update':
        return { ok: true, channel: body['channel'], ts: body['ts'], text: body['text'] };
      case 'usergroups.users.list':
        return this.groups[String(body['usergroup'])] ? { ok: true, users: this.groups[String(body['usergroup'])] } : { ok: false, error: 'no_such_subteam' };
      case 'api.test':
      case 'auth.test':
        return { ok: true };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// ---- requests exactly as Slack sends them -------------------------------------------------------------

export interface ClickOptions {
  /** The button's value (what the service wrote: incident, request and plan), or anything a test wants to send. */
  readonly value: string;
  readonly decision: 'approve' | 'reject';
  readonly userId: string;
  readonly channel: string;
  readonly ts: string;
  readonly blocks: readonly unknown[];
  readonly responseUrl: string;
}

/** A `block_actions` payload of a button press, as Slack posts it to the interactivity URL. */
export function clickPayload(options: ClickOptions): Record<string, unknown> {
  const actionTs = `${(Date.now() / 1000).toFixed(6)}`;
  return {
    type: 'block_actions',
    user: { id: options.userId, username: options.userId.toLowerCase(), name: options.userId.toLowerCase(), team_id: 'T0CORTEX' },
    api_app_id: 'A0CORTEX',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: options.ts, channel_id: options.channel, is_ephemeral: false },
    trigger_id: `${Date.now()}.123.${randomBytes(8).toString('hex')}`,
    team: { id: 'T0CORTEX', domain: 'cortexops' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: options.channel, name: 'sre-approvals' },
    message: { type: 'message', subtype: 'bot_message', text: 'Approval needed', ts: options.ts, bot_id: 'B0CORTEX', blocks: options.blocks },
    state: { values: {} },
    response_url: options.responseUrl,
    actions: [
      {
        action_id: options.decision === 'approve' ? 'cortexops_approve' : 'cortexops_reject',
        block_id: 'cortexops_actions',
        text: { type: 'plain_text', text: options.decision === 'approve' ? 'Approve' : 'Reject', emoji: true },
        value: options.value,
        style: options.decision === 'approve' ? 'primary' : 'danger',
        type: 'button',
        action_ts: actionTs,
      },
    ],
  };
}

export interface SignedRequest {
  readonly body: string;
  readonly headers: Record<string, string>;
}

/** Signs like Slack: `v0=` HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret. */
export function signSlackRequest(payload: unknown, signingSecret: string, timestampSec = Math.floor(Date.now() / 1000)): SignedRequest {
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const signature = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${body}`).digest('hex')}`;
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      'x-slack-request-timestamp': String(timestampSec),
      'x-slack-signature': signature,
    },
  };
}

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
  apiToken: 'test-api-token-0123456789abcdef0123456789abcdef',
} as const;
export const APPROVAL_CHANNEL = 'C0APPROVALS';
export const USERS = { alice: 'U0ALICE', bob: 'U0BOB', mallory: 'U0MALLORY' } as const;
export const APPROVER_GROUP = 'S0ONCALL';

export interface Harness {
  readonly slack: SlackStub;
  readonly client: Client;
  readonly service: ServiceHandle;
  /** Stops the approvals service (SIGTERM path) and starts a new one on the same port, database and namespace. */
  restartService(): Promise<void>;
  /** The service's audit store (read side for assertions). */
  readonly audit: AuditStore;
  readonly baseUrl: string;
  readonly logs: () => string;
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
    CORTEXOPS_APPROVERS: `${USERS.alice},alice@example.com,bob@example.com`,
    CORTEXOPS_APPROVALS_API_TOKEN: SECRETS.apiToken,
    ...env,
  });
  const startService = () => runService('approvals', config, (context) => startApprovals(config, context), { installSignalHandlers: false, logDestination: logStream });
  let service = await startService();
  const audit = await AuditStore.create({ databaseUrl: database.url, migrate: false });

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
    baseUrl: `http://${LOCAL_HOST}:${config.port}`,
    logs: () => logText,
    refusals: async () => (await audit.query({ kinds: ['approval.refused'], limit: 1000 })).records,
    close: async () => {
      await service.shutdown('test over');
      await worker.stop();
      await connection.close();
      await slack.close();
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
  const input: StandInInput = { incident, test: { request, ...(options.holdApplyingMs === undefined ? {} : { holdApplyingMs: options.holdApplyingMs }) } };
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
