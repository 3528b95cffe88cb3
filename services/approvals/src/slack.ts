import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApprovalRequest, HTTP_PATHS, type RemediationNote } from '@cortexops/contracts';
import { type DependencyCheck, type Logger, textLogger } from '@cortexops/observability';
import { App, type BlockButtonAction, HTTPReceiver, LogLevel, type Logger as SlackLogger, webApi } from '@slack/bolt';
import type { GroupDirectory } from './approvers.js';
import { type ButtonValue, type KnownBlock, noteBlocks, noteText, parseButtonValue, requestBlocks, requestText, SLACK_IDS } from './slack-messages.js';

export interface SlackMessageRef {
  readonly channel: string;
  readonly ts: string;
}

/** One press of Approve or Reject, after Slack's signature was verified. */
export interface SlackClick {
  /** The incident, request and plan the button names; `undefined` when its value is not one this service wrote. */
  readonly target: ButtonValue | undefined;
  /** The button's value as sent (kept with a refusal). */
  readonly rawValue: string;
  readonly decision: 'approve' | 'reject';
  readonly userId: string;
  readonly message: SlackMessageRef | undefined;
  /** The message's blocks as Slack sent them back. */
  readonly blocks: readonly KnownBlock[];
  /** Tells only the person who clicked (ephemeral, through the action's response_url). */
  tell(text: string): Promise<void>;
}

export interface SlackAppOptions {
  readonly token: string;
  readonly signingSecret: string;
  readonly channel: string;
  /** Slack Web API base URL (tests point it at a local server). */
  readonly apiUrl: string;
  /** Retries of a failed Web API call (network error, non-200), with exponential backoff from `retryMinMs`. */
  readonly retries: number;
  readonly retryMinMs: number;
  readonly logger: Logger;
  /** Every request refused before or by Bolt's signature check; the refusal stands whatever this does. */
  readonly onRefused?: (refusal: { readonly code: SlackRefusalCode; readonly reason: string; readonly input?: unknown }) => void;
}

export const SLACK_REFUSAL_CODES = {
  staleTimestamp: 'SLACK_STALE_TIMESTAMP',
  replay: 'SLACK_REPLAY',
  tooLarge: 'SLACK_TOO_LARGE',
  signatureInvalid: 'SLACK_SIGNATURE_INVALID',
} as const;
export type SlackRefusalCode = (typeof SLACK_REFUSAL_CODES)[keyof typeof SLACK_REFUSAL_CODES];

/** A Slack request refused before Bolt: the HTTP status to answer and why. */
export interface SlackRefusal {
  readonly status: number;
  readonly code: SlackRefusalCode;
  readonly reason: string;
}

/** Slack's rule: a request whose timestamp is more than five minutes from now is refused. */
const TIMESTAMP_WINDOW_SEC = 5 * 60;
/** Interactivity payloads are a few kilobytes; anything this large is not from Slack. */
export const SLACK_MAX_BODY_BYTES = 256 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_RETRY_DELAY_MS = 30_000;

/** Bolt's logger interface over pino, through the service logger's redaction (packages/observability). */
function boltLogger(logger: Logger): SlackLogger {
  return textLogger(logger, LogLevel);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Signatures of verified requests, kept for twice the timestamp window, to refuse a replayed request. */
class ReplayGuard {
  private readonly seen = new Map<string, number>();

  remember(signature: string | undefined): void {
    if (!signature) return;
    const now = Date.now();
    for (const [old, at] of this.seen) {
      if (now - at <= 2 * TIMESTAMP_WINDOW_SEC * 1000) break;
      this.seen.delete(old);
    }
    this.seen.set(signature, now);
  }

  has(signature: string): boolean {
    return this.seen.has(signature);
  }
}

/**
 * The Slack adapter: a Bolt app whose HTTP receiver verifies Slack's signature (v0 HMAC with the
 * signing secret) and whose Web API client retries with bounded backoff. Before Bolt sees a request,
 * a timestamp outside ±5 minutes and a signature already seen (a replay) are refused with 401.
 */
export class SlackApp implements GroupDirectory {
  private clickHandler: ((click: SlackClick) => Promise<void>) | undefined;

  private constructor(
    private readonly options: SlackAppOptions,
    private readonly app: App,
    private readonly receiver: HTTPReceiver,
    private readonly client: webApi.WebClient,
    private readonly probe: webApi.WebClient,
    private readonly seenSignatures: ReplayGuard,
  ) {}

  static create(options: SlackAppOptions): SlackApp {
    const logger = options.logger.child({ component: 'slack' });
    const clientOptions = {
      slackApiUrl: options.apiUrl,
      timeout: REQUEST_TIMEOUT_MS,
      logger: boltLogger(logger),
      retryConfig: { retries: options.retries, factor: 2, minTimeout: options.retryMinMs, maxTimeout: MAX_RETRY_DELAY_MS, randomize: true },
    };
    const seen = new ReplayGuard();
    const receiver = new HTTPReceiver({
      signingSecret: options.signingSecret,
      endpoints: HTTP_PATHS.slackEvents,
      logger: boltLogger(logger),
      // Runs only for requests whose signature Bolt verified: remember them to refuse replays.
      customPropertiesExtractor: (request) => {
        seen.remember(header(request, 'x-slack-signature'));
        return {};
      },
    });
    const app = new App({
      receiver,
      // A single workspace: the bot token is known, so no `auth.test` round trip per click (which would
      // also make every click fail while Slack's API is down).
      authorize: async () => ({ botToken: options.token }),
      ignoreSelf: false,
      clientOptions,
      logger: boltLogger(logger),
    });
    const client = new webApi.WebClient(options.token, clientOptions);
    const probe = new webApi.WebClient(options.token, { ...clientOptions, retryConfig: { retries: 0 }, timeout: 1500 });
    const slack = new SlackApp(options, app, receiver, client, probe, seen);
    slack.listen();
    return slack;
  }

  /** What to do with a verified click; set once by the approval service. */
  onClick(handler: (click: SlackClick) => Promise<void>): void {
    this.clickHandler = handler;
  }

  private listen(): void {
    const actionIds = new RegExp(`^(${SLACK_IDS.approve}|${SLACK_IDS.reject})$`);
    this.app.action<BlockButtonAction>({ type: 'block_actions', action_id: actionIds }, async ({ ack, action, body, respond }) => {
      await ack();
      const container = body.container as { channel_id?: unknown; message_ts?: unknown } | undefined;
      const channel = typeof container?.channel_id === 'string' ? container.channel_id : body.channel?.id;
      const ts = typeof container?.message_ts === 'string' ? container.message_ts : body.message?.ts;
      const blocks = Array.isArray(body.message?.['blocks']) ? (body.message['blocks'] as KnownBlock[]) : [];
      const click: SlackClick = {
        target: parseButtonValue(action.value),
        rawValue: action.value ?? '',
        decision: action.action_id === SLACK_IDS.approve ? 'approve' : 'reject',
        userId: body.user.id,
        message: channel && ts ? { channel, ts } : undefined,
        blocks,
        tell: async (text) => {
          await respond({ response_type: 'ephemeral', replace_original: false, text });
        },
      };
      if (this.clickHandler) await this.clickHandler(click);
    });
  }

  /**
   * Checks made on the headers alone, before any byte of the body is read: a timestamp outside the window, or a
   * signature already seen (a replay). Answers the refusal (already logged and reported), or `undefined`.
   */
  precheck(req: IncomingMessage): SlackRefusal | undefined {
    const timestamp = Number(header(req, 'x-slack-request-timestamp'));
    const signature = header(req, 'x-slack-signature');
    if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > TIMESTAMP_WINDOW_SEC) {
      return this.refused(req, 401, SLACK_REFUSAL_CODES.staleTimestamp, 'timestamp missing or outside the 5-minute window');
    }
    if (signature && this.seenSignatures.has(signature)) return this.refused(req, 401, SLACK_REFUSAL_CODES.replay, 'replay of a request already handled');
    return undefined;
  }

  /** A body over {@link SLACK_MAX_BODY_BYTES} (declared or counted while it streamed in): logged, reported, answered 413. */
  tooLarge(req: IncomingMessage): SlackRefusal {
    return this.refused(req, 413, SLACK_REFUSAL_CODES.tooLarge, `body larger than ${SLACK_MAX_BODY_BYTES} bytes`);
  }

  private refused(req: IncomingMessage, status: number, code: SlackRefusalCode, reason: string): SlackRefusal {
    const timestamp = header(req, 'x-slack-request-timestamp');
    this.options.logger.warn({ timestamp, code }, `slack request refused: ${reason}`);
    this.options.onRefused?.({ code, reason, input: { timestamp, contentLength: header(req, 'content-length'), transferEncoding: header(req, 'transfer-encoding') } });
    return { status, code, reason };
  }

  /**
   * Hands a request whose headers passed {@link precheck} and whose body was read (bounded) to Bolt, which verifies the
   * signature over exactly these bytes (Bolt takes a body already read from `rawBody`).
   */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const timestamp = header(req, 'x-slack-request-timestamp');
    // Bolt answers 401 itself when the signature does not verify; that answer is the refusal to keep.
    res.once('finish', () => {
      if (res.statusCode === 401) {
        this.options.onRefused?.({ code: SLACK_REFUSAL_CODES.signatureInvalid, reason: 'signature does not verify with the signing secret', input: { timestamp } });
      }
    });
    Object.assign(req, { rawBody: body });
    this.receiver.requestListener(req, res);
  }

  /** Posts the approval request; the message reference is what later edits need. */
  async post(request: ApprovalRequest): Promise<SlackMessageRef> {
    const result = await this.client.chat.postMessage({ channel: this.options.channel, text: requestText(request), blocks: requestBlocks(request), unfurl_links: false });
    if (!result.channel || !result.ts) throw new Error('chat.postMessage answered without channel and ts');
    return { channel: result.channel, ts: result.ts };
  }

  /** Posts a note (an escalation, an outcome): a plain message, nothing to decide. */
  async postNote(note: RemediationNote): Promise<SlackMessageRef> {
    const result = await this.client.chat.postMessage({ channel: this.options.channel, text: noteText(note), blocks: noteBlocks(note), unfurl_links: false });
    if (!result.channel || !result.ts) throw new Error('chat.postMessage answered without channel and ts');
    return { channel: result.channel, ts: result.ts };
  }

  /** Replaces the message (its buttons go; the outcome shows). */
  async update(message: SlackMessageRef, text: string, blocks: readonly KnownBlock[]): Promise<void> {
    await this.client.chat.update({ channel: message.channel, ts: message.ts, text, blocks: [...blocks] });
  }

  async members(groupId: string): Promise<readonly string[]> {
    const result = await this.client.usergroups.users.list({ usergroup: groupId });
    return result.users ?? [];
  }

  /** Slack's API as an optional dependency: while it is down, the HTTP approval path still works. */
  healthCheck(): DependencyCheck {
    return {
      name: 'slack',
      required: false,
      check: async () => {
        await this.probe.api.test();
      },
    };
  }
}
