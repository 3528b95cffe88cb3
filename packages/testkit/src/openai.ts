import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { LOCAL_HOST } from '@cortexops/config';
import { freePort } from './testing.js';

/**
 * An OpenAI-compatible API for tests: a local server speaking the real wire format of `POST /v1/chat/completions` and
 * `POST /v1/embeddings` (what OpenAI, vLLM and Ollama answer), so the code under test is the production `openai`
 * client with another base URL. Each test says how the next answers behave: content, a refusal, a delay, an HTTP
 * error, a body that is not JSON.
 */

export interface OpenAICall {
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly authorization: string | undefined;
}

/** How one chat completion is answered. */
export interface ChatReply {
  /** The assistant message's content (for structured output: the JSON text). */
  readonly content?: string | null;
  /** The model refused (OpenAI's `message.refusal`). */
  readonly refusal?: string;
  /** Waits this long before answering. */
  readonly delayMs?: number;
  /** Answers this HTTP status with an OpenAI error body instead. */
  readonly status?: number;
  /** Answers this raw body (e.g. not JSON) with status 200. */
  readonly rawBody?: string;
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number };
}

export type ChatHandler = (request: Record<string, unknown>) => ChatReply;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A deterministic unit vector for a text (its SHA-256 stretched), for embeddings that need no model. */
export function hashVector(text: string, dimension: number): number[] {
  const out: number[] = [];
  for (let block = 0; out.length < dimension; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (const byte of digest) if (out.length < dimension) out.push(byte / 127.5 - 1);
  }
  const norm = Math.sqrt(out.reduce((s, x) => s + x * x, 0)) || 1;
  return out.map((x) => x / norm);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class OpenAIStub {
  readonly calls: OpenAICall[] = [];
  /** How chat completions are answered (default: an empty JSON object). */
  chat: ChatHandler = () => ({ content: '{}' });
  /** Dimension of the embeddings answered; `embeddingsReply` overrides the whole answer. */
  embeddingDimension = 8;
  embeddingsReply: ((input: readonly string[]) => { status?: number; rawBody?: string; data?: unknown }) | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    /** The base URL the `openai` client takes (`.../v1`). */
    readonly baseURL: string,
  ) {}

  static async start(): Promise<OpenAIStub> {
    const port = await freePort();
    const server = createServer();
    const stub = new OpenAIStub(server, `http://${LOCAL_HOST}:${port}/v1`);
    server.on('connection', (socket) => {
      stub.sockets.add(socket);
      socket.on('close', () => stub.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void stub.serve(req, res);
    });
    await new Promise<void>((resolve) => server.listen(port, LOCAL_HOST, resolve));
    return stub;
  }

  callsTo(path: string): OpenAICall[] {
    return this.calls.filter((c) => c.path === path);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'body is not JSON', type: 'invalid_request_error' } }));
      return;
    }
    const path = (req.url ?? '').replace(/^\/v1/, '');
    this.calls.push({ path, body, authorization: req.headers.authorization });
    const json = (status: number, value: unknown) => {
      if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    if (req.method === 'POST' && path === '/chat/completions') {
      const reply = this.chat(body);
      if (reply.delayMs !== undefined) await sleep(reply.delayMs);
      if (reply.status !== undefined) return json(reply.status, { error: { message: `stub error ${reply.status}`, type: 'server_error', code: null } });
      if (reply.rawBody !== undefined) {
        if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(reply.rawBody);
        return;
      }
      const usage = reply.usage ?? { prompt_tokens: Math.ceil(raw.length / 4), completion_tokens: Math.ceil((reply.content ?? '').length / 4) };
      return json(200, {
        id: `chatcmpl-${this.calls.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: String(body.model),
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: reply.refusal === undefined ? (reply.content ?? null) : null, refusal: reply.refusal ?? null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      });
    }
    if (req.method === 'POST' && path === '/embeddings') {
      const input = typeof body.input === 'string' ? [body.input] : (body.input as string[]);
      const custom = this.embeddingsReply?.(input);
      if (custom?.status !== undefined) return json(custom.status, { error: { message: `stub error ${custom.status}`, type: 'server_error', code: null } });
      if (custom?.rawBody !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(custom.rawBody);
        return;
      }
      const data = custom?.data ?? input.map((text, index) => ({ object: 'embedding', index, embedding: hashVector(text, this.embeddingDimension) }));
      const tokens = input.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
      return json(200, { object: 'list', data, model: String(body.model), usage: { prompt_tokens: tokens, total_tokens: tokens } });
    }
    json(404, { error: { message: `no route ${req.method ?? ''} ${path}`, type: 'invalid_request_error' } });
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
