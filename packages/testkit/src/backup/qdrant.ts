import { createWriteStream, openAsBlob } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BackupError } from './errors.js';

/**
 * Qdrant's own collection snapshots over its REST API: created on the server, downloaded, deleted there; restored by
 * uploading the file (`priority=snapshot`: the snapshot's points replace whatever the collection held).
 */

const TIMEOUT_MS = 5 * 60_000;

async function call<T>(base: string, path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    throw new BackupError('QDRANT', `Qdrant at ${base}: ${(error as Error).message}`, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) throw new BackupError('QDRANT', `Qdrant ${init.method ?? 'GET'} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { result: T }).result;
}

export async function collections(base: string): Promise<string[]> {
  return (await call<{ collections: { name: string }[] }>(base, '/collections')).collections.map((c) => c.name).sort();
}

/** Points in the collection; undefined when it does not exist. */
export async function pointCount(base: string, collection: string): Promise<number | undefined> {
  if (!(await collections(base)).includes(collection)) return undefined;
  return (await call<{ points_count?: number }>(base, `/collections/${encodeURIComponent(collection)}`)).points_count ?? 0;
}

export interface QdrantSnapshot {
  readonly collection: string;
  readonly points: number;
  /** Qdrant's own checksum of the snapshot (sha256). */
  readonly checksum: string | undefined;
}

/** Snapshots `collection` into `file` (and removes the server's copy). */
export async function snapshotCollection(base: string, collection: string, file: string): Promise<QdrantSnapshot> {
  const c = encodeURIComponent(collection);
  const points = (await pointCount(base, collection)) ?? 0;
  const made = await call<{ name: string; checksum?: string }>(base, `/collections/${c}/snapshots?wait=true`, { method: 'POST' });
  const path = `/collections/${c}/snapshots/${encodeURIComponent(made.name)}`;
  try {
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!response.ok || !response.body) throw new BackupError('QDRANT', `Qdrant GET ${path}: ${response.status}`);
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), createWriteStream(file, { mode: 0o600 }));
  } finally {
    await call(base, `${path}?wait=true`, { method: 'DELETE' }).catch(() => undefined);
  }
  return { collection, points, checksum: made.checksum };
}

/** Uploads the snapshot `file` as `collection` (created, or its points replaced). */
export async function restoreCollection(base: string, collection: string, file: string): Promise<void> {
  const form = new FormData();
  form.append('snapshot', await openAsBlob(file), `${collection}.snapshot`);
  await call(base, `/collections/${encodeURIComponent(collection)}/snapshots/upload?priority=snapshot&wait=true`, { method: 'POST', body: form });
}
