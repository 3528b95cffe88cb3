import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInbox, Empty, type Msg, type NatsConnection } from 'nats';
import { BackupError } from './errors.js';

/**
 * A JetStream stream's own snapshot and restore, through the server's API (`$JS.API.STREAM.SNAPSHOT.<stream>` and
 * `$JS.API.STREAM.RESTORE.<stream>`): the server streams its store files (an s2-compressed tar: every message with its
 * sequence and time, the stream's consumers with their ack state) and takes them back as they were. nats.js has no
 * call for it; this is the protocol `nats stream backup|restore` (jsm.go) speaks, and the two files it writes have the
 * names and contents that tool's directory has (`backup.json`: config and state; `stream.tar.s2`: the data), so a
 * backup's stream directory can also be restored with `nats stream restore`.
 */

export const STREAM_META_FILE = 'backup.json';
export const STREAM_DATA_FILE = 'stream.tar.s2';

/** Bytes per message the server sends (its default) and we send back on restore (jsm.go's size). */
const SNAPSHOT_CHUNK = 128 * 1024;
const RESTORE_CHUNK = 64 * 1024;
const API_TIMEOUT_MS = 10_000;
/** The server rebuilds the stream after the last chunk: allow it time. */
const RESTORE_FINISH_TIMEOUT_MS = 10 * 60_000;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

interface ApiError {
  readonly code: number;
  readonly err_code?: number;
  readonly description: string;
}

export interface StreamSnapshotMeta {
  readonly config: Record<string, unknown> & { readonly name: string; readonly storage?: string };
  readonly state: Record<string, unknown> & { readonly messages: number; readonly bytes: number; readonly last_seq: number };
}

async function api<T>(nc: NatsConnection, subject: string, body: unknown, timeout = API_TIMEOUT_MS): Promise<T> {
  const reply = await nc.request(subject, body === undefined ? Empty : encoder.encode(JSON.stringify(body)), { timeout });
  const parsed = JSON.parse(decoder.decode(reply.data)) as T & { error?: ApiError };
  if (parsed.error) throw new BackupError('NATS_API', `${subject}: ${parsed.error.description} (${parsed.error.code}${parsed.error.err_code ? `/${parsed.error.err_code}` : ''})`);
  return parsed;
}

/** The stream's config and state, or undefined when it does not exist. */
export async function streamInfo(nc: NatsConnection, stream: string): Promise<StreamSnapshotMeta | undefined> {
  try {
    return await api<StreamSnapshotMeta>(nc, `$JS.API.STREAM.INFO.${stream}`, undefined);
  } catch (error) {
    if (error instanceof BackupError && /not found/i.test(error.message)) return undefined;
    throw error;
  }
}

/** A status message of the server on the deliver subject (an error), or undefined for a data or end message. */
function statusOf(msg: Msg): string | undefined {
  const code = msg.headers?.code ?? 0;
  return code >= 300 ? `${code} ${msg.headers?.description ?? ''}`.trim() : undefined;
}

/**
 * Writes the stream's snapshot (consumers included) into `dir` as `backup.json` and `stream.tar.s2`. Memory streams
 * have no snapshot (the server refuses): their name is in the error.
 */
export async function snapshotStream(nc: NatsConnection, stream: string, dir: string, inboxPrefix?: string): Promise<StreamSnapshotMeta> {
  // The deliver subject under the user's own inbox prefix (a user with accounts may subscribe to its inbox only).
  const inbox = createInbox(inboxPrefix);
  const sub = nc.subscribe(inbox);
  const out = createWriteStream(join(dir, STREAM_DATA_FILE), { mode: 0o600 });
  try {
    const response = await api<StreamSnapshotMeta>(nc, `$JS.API.STREAM.SNAPSHOT.${stream}`, { deliver_subject: inbox, no_consumers: false, chunk_size: SNAPSHOT_CHUNK, jsck: false });
    // A server that stops sending (it died, or lost interest) ends the wait: the subscription is closed and that is an error.
    let stalled = false;
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        stalled = true;
        sub.unsubscribe();
      }, API_TIMEOUT_MS);
    };
    arm();
    let ended = false;
    try {
      for await (const msg of sub) {
        arm();
        const status = statusOf(msg);
        if (status !== undefined) throw new BackupError('NATS_SNAPSHOT', `snapshot of ${stream}: the server said ${status}`);
        if (msg.data.length === 0) {
          ended = true;
          break;
        }
        if (!out.write(msg.data)) await once(out, 'drain');
        // The server's flow control: each chunk's reply subject is its acknowledgement.
        if (msg.reply) msg.respond();
      }
    } finally {
      clearTimeout(idle);
    }
    if (!ended) throw new BackupError('NATS_SNAPSHOT', `snapshot of ${stream}: ${stalled ? `no data from the server for ${API_TIMEOUT_MS / 1000} s` : 'the subscription closed before the end of the data'}`);
    writeFileSync(join(dir, STREAM_META_FILE), `${JSON.stringify({ config: response.config, state: response.state }, null, 2)}\n`, { mode: 0o600 });
    return { config: response.config, state: response.state };
  } finally {
    sub.unsubscribe();
    out.end();
    await once(out, 'close');
  }
}

/** The stream's config and state as the snapshot in `dir` recorded them. */
export function readStreamMeta(dir: string): StreamSnapshotMeta {
  const meta = JSON.parse(readFileSync(join(dir, STREAM_META_FILE), 'utf8')) as Partial<StreamSnapshotMeta>;
  if (typeof meta.config?.name !== 'string' || typeof meta.state?.messages !== 'number') {
    throw new BackupError('BACKUP_CORRUPT', `${join(dir, STREAM_META_FILE)} is not a stream snapshot's metadata (no config.name or state.messages)`);
  }
  return meta as StreamSnapshotMeta;
}

/**
 * Restores the snapshot in `dir` as a new stream (the server refuses when a stream of that name exists: delete it
 * first). Resolves with the restored stream's state.
 */
export async function restoreStream(nc: NatsConnection, dir: string): Promise<StreamSnapshotMeta['state']> {
  const meta = readStreamMeta(dir);
  const stream = meta.config.name;
  const { deliver_subject: deliver } = await api<{ deliver_subject: string }>(nc, `$JS.API.STREAM.RESTORE.${stream}`, meta);
  const check = (msg: Msg, what: string): Record<string, unknown> | undefined => {
    const status = statusOf(msg);
    if (status !== undefined) throw new BackupError('NATS_RESTORE', `restore of ${stream}: ${what}: the server said ${status}`);
    if (msg.data.length === 0) return undefined;
    const body = JSON.parse(decoder.decode(msg.data)) as { error?: ApiError };
    if (body.error) throw new BackupError('NATS_RESTORE', `restore of ${stream}: ${what}: ${body.error.description} (${body.error.code})`);
    return body;
  };
  let sent = 0;
  for await (const chunk of createReadStream(join(dir, STREAM_DATA_FILE), { highWaterMark: RESTORE_CHUNK })) {
    check(await nc.request(deliver, chunk as Buffer, { timeout: API_TIMEOUT_MS }), `chunk at byte ${sent}`);
    sent += (chunk as Buffer).length;
  }
  const done = check(await nc.request(deliver, Empty, { timeout: RESTORE_FINISH_TIMEOUT_MS }), 'the end of the data') as { state?: StreamSnapshotMeta['state'] } | undefined;
  if (!done?.state) throw new BackupError('NATS_RESTORE', `restore of ${stream}: the server's last answer carried no stream state`);
  return done.state;
}

/** Deletes the stream (restore needs its name free); no error when it does not exist. */
export async function deleteStream(nc: NatsConnection, stream: string): Promise<void> {
  if ((await streamInfo(nc, stream)) === undefined) return;
  await api(nc, `$JS.API.STREAM.DELETE.${stream}`, undefined);
}
