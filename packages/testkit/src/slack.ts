import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { LOCAL_HOST } from '@cortexops/config';
import { freePort } from './testing.js';

/**
 * Slack's side of an approval, for tests: a local server speaking Slack's Web API (and response_url) wire format, and
 * interactivity requests built and signed exactly as Slack sends them. The code under test is the production Slack
 * app with another base URL.
 */

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
