import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AuditStore, checkpointKeyId, openCheckpoint, type CheckpointKeys } from '@cortexops/audit';
import { BACKUP_FORMAT, STREAMS } from '@cortexops/contracts';
import { connect, type NatsConnection } from 'nats';
import type { Launcher } from '../stack/launcher.js';
import { natsAdminConnectOptions } from '../stack/nats-auth.js';
import { runningPid } from '../stack/process.js';
import { auditCheckpointFile, auditCheckpointKey } from '../stack/servers/audit-checkpointer.js';
import { POSTGRES_DATABASE, postgresUrl } from '../stack/servers/postgres.js';
import { qdrantUrl } from '../stack/servers/qdrant.js';
import { temporalDbFile } from '../stack/servers/temporal.js';
import type { StackContext } from '../stack/types.js';
import { VERSIONS } from '../stack/versions.js';
import { BackupError } from './errors.js';
import { type Manifest, inside, verifyBackup, writeManifest } from './manifest.js';
import { deleteStream, readStreamMeta, restoreStream, snapshotStream, streamInfo } from './nats-snapshot.js';
import { checkDump, databaseUrl, dumpDatabase, restoreDatabase, serverVersion, tablesWithRows } from './postgres.js';
import { collections, pointCount, restoreCollection, snapshotCollection } from './qdrant.js';
import { pgTools, sqliteBackup, sqliteCheck } from './tools.js';

/**
 * Backup and restore of a local stack (the shared one of `make up`, or a private instance): its PostgreSQL databases
 * (pg_dump), Temporal's store (the development server's SQLite file, copied with SQLite's online backup), the NATS
 * streams that hold state (the KV buckets — the correlator's groups and fingerprint index, ingestion's checkpoints —
 * the dead letters and the oversized webhook bodies, each with the server's own snapshot), every Qdrant collection
 * (Qdrant's snapshots) when the stack runs Qdrant, and the signed audit checkpoint. One directory,
 * `cortexops-backup-<UTC time>`, with a manifest.
 */

/**
 * Streams with state worth keeping: every CortexOps KV bucket, and what bad input left (kept, never dropped): the dead
 * letters and the object store of oversized webhook bodies.
 */
const STATE_STREAM_PREFIXES = ['KV_cortexops_', 'OBJ_cortexops_'] as const;
/** Workflow runs in Temporal's store, the server's own (`temporal-sys-*`, present from its first start) not counted. */
const TEMPORAL_EXECUTIONS = "SELECT count(*) FROM current_executions WHERE workflow_id NOT LIKE 'temporal-sys-%'";

export interface BackupOptions {
  /** The directory the backup directory is made in (default `<cache>/backups`). */
  readonly into?: string;
  /** Databases to dump (default the stack's `cortexops`). */
  readonly databases?: readonly string[];
  readonly log?: (line: string) => void;
}

export interface RestoreOptions {
  /** Restore over servers that hold data (their data is replaced). */
  readonly force?: boolean;
  readonly log?: (line: string) => void;
}

export interface BackupResult {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly bytes: number;
}

export interface RestoreResult {
  readonly manifest: Manifest;
  readonly seconds: number;
  /** The audit chain after the restore, checked against the restored checkpoint. */
  readonly audit?: { readonly rows: number; readonly headSequence: number; readonly checkpointSequence?: number };
}

/** A PostgreSQL database name that is also a safe file name. */
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/** Connected as the stack's NATS admin (accounts and TLS when the stack runs them): the user allowed snapshots and restores. */
async function withNats<T>(ctx: StackContext, work: (nc: NatsConnection, inboxPrefix: string | undefined) => Promise<T>): Promise<T> {
  const options = natsAdminConnectOptions(ctx);
  const nc = await connect({ ...options, maxReconnectAttempts: 0 });
  try {
    return await work(nc, options.inboxPrefix);
  } finally {
    await nc.close();
  }
}

async function stateStreams(nc: NatsConnection): Promise<string[]> {
  const names: string[] = [];
  for await (const name of (await nc.jetstreamManager()).streams.names()) {
    if (name === STREAMS.deadLetter || STATE_STREAM_PREFIXES.some((prefix) => name.startsWith(prefix))) names.push(name);
  }
  return names.sort();
}

function gitCommit(repoRoot: string): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function checkpointKeys(ctx: StackContext): CheckpointKeys {
  const previous = ctx.env.CORTEXOPS_AUDIT_CHECKPOINT_PREVIOUS_KEY;
  return { current: auditCheckpointKey(ctx), ...(previous ? { previous } : {}) };
}

/** Takes a backup of the stack of `ctx` into a new directory; a failed backup leaves none (only `<dir>.partial`, removed). */
export async function backupStack(ctx: StackContext, options: BackupOptions = {}): Promise<BackupResult> {
  const log = options.log ?? (() => undefined);
  const bad = (options.databases ?? []).filter((d) => !DATABASE_NAME.test(d));
  if (bad.length > 0) throw new BackupError('BAD_OPTION', `database names are 1-63 of letters, digits and _ (starting with a letter or _), not ${bad.map((d) => JSON.stringify(d)).join(', ')}`);
  const started = new Date();
  const dir = join(options.into ?? join(ctx.cacheDir, 'backups'), `cortexops-backup-${stamp(started)}`);
  const partial = `${dir}.partial`;
  if (existsSync(dir)) throw new BackupError('BACKUP_NOT_FOUND', `${dir} exists already`);
  mkdirSync(partial, { recursive: true, mode: 0o700 });
  try {
    const versions: Record<string, string> = { cortexops: gitCommit(ctx.repoRoot), temporalCli: VERSIONS.temporalCli.version };

    // The checkpoint first: the dump taken after it holds at least the rows it signs.
    let checkpoint: Manifest['checkpoint'];
    const checkpointFile = auditCheckpointFile(ctx);
    if (existsSync(checkpointFile)) {
      const raw = JSON.parse(readFileSync(checkpointFile, 'utf8')) as { keyId?: string; sequence?: number };
      mkdirSync(join(partial, 'audit'), { mode: 0o700 });
      copyFileSync(checkpointFile, join(partial, 'audit', 'checkpoint.json'));
      checkpoint = { file: 'audit/checkpoint.json', keyId: String(raw.keyId), sequence: Number(raw.sequence) };
      log(`audit checkpoint: sequence ${checkpoint.sequence}, key ${checkpoint.keyId}`);
    }

    const tools = await pgTools(ctx);
    versions.pgDump = tools.version;
    versions.postgres = await serverVersion(postgresUrl(ctx, 'postgres'));
    mkdirSync(join(partial, 'postgres'), { mode: 0o700 });
    const databases: Manifest['databases'][number][] = [];
    for (const database of options.databases ?? [POSTGRES_DATABASE]) {
      const file = `postgres/${database}.dump`;
      await dumpDatabase(tools, postgresUrl(ctx, database), join(partial, file));
      databases.push({ database, file });
      log(`postgres: ${database} dumped (${statSync(join(partial, file)).size} bytes)`);
    }

    let temporalSqlite: Manifest['temporalSqlite'];
    if (existsSync(temporalDbFile(ctx))) {
      mkdirSync(join(partial, 'temporal'), { mode: 0o700 });
      const file = 'temporal/temporal.db';
      await sqliteBackup(temporalDbFile(ctx), join(partial, file));
      const check = await sqliteCheck(join(partial, file), TEMPORAL_EXECUTIONS);
      temporalSqlite = { file, executions: check.rows };
      log(`temporal: store copied (${check.rows} executions, ${statSync(join(partial, file)).size} bytes)`);
    }

    const streams = await withNats(ctx, async (nc, inboxPrefix) => {
      versions.nats = nc.info?.version ?? 'unknown';
      const out: Manifest['streams'][number][] = [];
      for (const stream of await stateStreams(nc)) {
        const sub = `nats/${stream}`;
        mkdirSync(join(partial, sub), { recursive: true, mode: 0o700 });
        const meta = await snapshotStream(nc, stream, join(partial, sub), inboxPrefix);
        out.push({ stream, dir: sub, messages: meta.state.messages, lastSequence: meta.state.last_seq });
        log(`nats: ${stream} snapshot (${meta.state.messages} messages)`);
      }
      return out;
    });

    const collectionEntries: Manifest['collections'][number][] = [];
    if (runningPid(ctx, 'qdrant') !== undefined) {
      const base = qdrantUrl(ctx);
      versions.qdrant = ((await (await fetch(base)).json()) as { version?: string }).version ?? 'unknown';
      mkdirSync(join(partial, 'qdrant'), { mode: 0o700 });
      for (const collection of await collections(base)) {
        const file = `qdrant/${collection}.snapshot`;
        const snap = await snapshotCollection(base, collection, join(partial, file));
        collectionEntries.push({ collection, file, points: snap.points });
        log(`qdrant: ${collection} snapshot (${snap.points} points)`);
      }
    }

    const manifest = await writeManifest(partial, {
      format: BACKUP_FORMAT,
      createdAt: started.toISOString(),
      seconds: (Date.now() - started.getTime()) / 1000,
      versions,
      databases,
      ...(temporalSqlite ? { temporalSqlite } : {}),
      streams,
      collections: collectionEntries,
      ...(checkpoint ? { checkpoint } : {}),
    });
    renameSync(partial, dir);
    return { dir, manifest, bytes: manifest.files.reduce((sum, f) => sum + f.bytes, 0) };
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
}

/** Checks every part's contents with its own tool (beyond the checksums): nothing is touched before all pass. */
async function checkContents(ctx: StackContext, dir: string, manifest: Manifest): Promise<void> {
  const tools = await pgTools(ctx);
  for (const d of manifest.databases) {
    await checkDump(tools, inside(dir, d.file)).catch((error: unknown) => {
      throw new BackupError('BACKUP_CORRUPT', `${d.file} is not a readable dump, nothing was restored: ${(error as Error).message}`, { cause: error });
    });
  }
  if (manifest.temporalSqlite) {
    const file = manifest.temporalSqlite.file;
    const check = await sqliteCheck(inside(dir, file), TEMPORAL_EXECUTIONS).catch((error: unknown) => {
      throw new BackupError('BACKUP_CORRUPT', `${file} is not a SQLite database, nothing was restored: ${(error as Error).message}`, { cause: error });
    });
    if (!check.ok || check.rows < 0) throw new BackupError('BACKUP_CORRUPT', `${file} is not an intact Temporal store (${check.detail}), nothing was restored`);
  }
  for (const s of manifest.streams) {
    const meta = readStreamMeta(inside(dir, s.dir));
    if (meta.config.name !== s.stream) throw new BackupError('BACKUP_CORRUPT', `${s.dir}/backup.json is stream ${meta.config.name}, the manifest says ${s.stream}`);
  }
}

/** What of the target holds data already (each as `server: what`). */
async function occupied(launcher: Launcher, manifest: Manifest): Promise<string[]> {
  const ctx = launcher.ctx;
  const found: string[] = [];
  for (const d of manifest.databases) {
    const tables = await tablesWithRows(postgresUrl(ctx, 'postgres'), d.database);
    if (tables.length > 0) found.push(`postgres: database ${d.database} has rows in ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}`);
  }
  if (manifest.temporalSqlite && existsSync(temporalDbFile(ctx))) {
    const { rows } = await sqliteCheck(temporalDbFile(ctx), TEMPORAL_EXECUTIONS);
    if (rows > 0) found.push(`temporal: ${rows} workflow executions`);
  }
  if (manifest.streams.length > 0) {
    await withNats(ctx, async (nc) => {
      for (const s of manifest.streams) {
        const info = await streamInfo(nc, s.stream);
        if (info !== undefined && info.state.messages > 0) found.push(`nats: stream ${s.stream} has ${info.state.messages} messages`);
      }
    });
  }
  for (const c of manifest.collections) {
    const points = await pointCount(qdrantUrl(ctx), c.collection);
    if (points !== undefined && points > 0) found.push(`qdrant: collection ${c.collection} has ${points} points`);
  }
  return found;
}

/** Replaces the Temporal server's store: the server stopped, the file put in place (atomically), the server started. */
async function restoreTemporal(launcher: Launcher, source: string): Promise<void> {
  const target = temporalDbFile(launcher.ctx);
  const wasRunning = runningPid(launcher.ctx, 'temporal') !== undefined;
  await launcher.down(['temporal']);
  mkdirSync(dirname(target), { recursive: true });
  const staging = `${target}.restoring`;
  copyFileSync(source, staging);
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${target}${suffix}`, { force: true });
  renameSync(staging, target);
  if (wasRunning) await launcher.up(['temporal']);
}

/**
 * Restores the backup in `dir` into the stack of `launcher`. First, before anything changes: the manifest and every
 * checksum, each part's contents (pg_restore's table of contents, SQLite's integrity check, the stream metadata), the
 * checkpoint's key (this stack's key must be the one that signed it), and that the servers hold nothing (unless
 * `force`). Then PostgreSQL (into a new database, renamed over the old), the checkpoint file, Temporal's store (the
 * server restarted), the NATS streams (deleted, then restored from their snapshots) and the Qdrant collections. The
 * stack's services that were running are stopped first and started again at the end. Last, the audit chain is
 * verified against the restored checkpoint.
 */
export async function restoreStack(launcher: Launcher, dir: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  const ctx = launcher.ctx;
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const manifest = await verifyBackup(dir);
  log(`backup ${dir}: ${manifest.files.length} files, checksums match`);
  await checkContents(ctx, dir, manifest);
  const keys = checkpointKeys(ctx);
  // With --force and another key, the chain is verified without the checkpoint (it cannot be opened).
  let checkpointUsable = manifest.checkpoint !== undefined;
  if (manifest.checkpoint) {
    const ids = [keys.current, keys.previous].filter((k): k is string => k !== undefined).map(checkpointKeyId);
    checkpointUsable = ids.includes(manifest.checkpoint.keyId);
    if (!checkpointUsable && !options.force) {
      throw new BackupError(
        'CHECKPOINT_KEY_MISMATCH',
        `the backup's audit checkpoint is signed with key ${manifest.checkpoint.keyId}; this stack's key is ${ids.join(', ')}: set CORTEXOPS_AUDIT_CHECKPOINT_KEY to the key it was signed with (or --force to restore without checking the chain against it); nothing was restored`,
      );
    }
  }
  const full = await occupied(launcher, manifest);
  if (full.length > 0 && !options.force) {
    throw new BackupError('TARGET_NOT_EMPTY', `the servers hold data, nothing was restored (--force replaces it): ${full.join('; ')}`);
  }

  const services = launcher.servers.filter((s) => s.group === 'services' && runningPid(ctx, s.name) !== undefined).map((s) => s.name);
  if (services.length > 0) {
    await launcher.down(services);
    log(`stopped ${services.join(', ')} for the restore`);
  }
  const tools = await pgTools(ctx);
  for (const d of manifest.databases) {
    await restoreDatabase(tools, postgresUrl(ctx, 'postgres'), d.database, inside(dir, d.file));
    log(`postgres: ${d.database} restored`);
  }
  if (manifest.checkpoint) {
    const target = auditCheckpointFile(ctx);
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    writeFileSync(`${target}.restoring`, readFileSync(inside(dir, manifest.checkpoint.file)), { mode: 0o600 });
    renameSync(`${target}.restoring`, target);
    log(`audit checkpoint restored (sequence ${manifest.checkpoint.sequence})`);
  }
  if (manifest.temporalSqlite) {
    await restoreTemporal(launcher, inside(dir, manifest.temporalSqlite.file));
    log(`temporal: store restored (${manifest.temporalSqlite.executions} executions)`);
  }
  if (manifest.streams.length > 0) {
    await withNats(ctx, async (nc) => {
      for (const s of manifest.streams) {
        await deleteStream(nc, s.stream);
        const state = await restoreStream(nc, inside(dir, s.dir));
        log(`nats: ${s.stream} restored (${state.messages} messages)`);
      }
    });
  }
  for (const c of manifest.collections) {
    await restoreCollection(qdrantUrl(ctx), c.collection, inside(dir, c.file));
    log(`qdrant: ${c.collection} restored`);
  }

  let audit: RestoreResult['audit'];
  const auditDb = manifest.databases.find((d) => d.database === POSTGRES_DATABASE) ?? manifest.databases[0];
  if (auditDb) audit = await verifyRestoredChain(ctx, auditDb.database, keys, checkpointUsable);
  if (services.length > 0) {
    await launcher.up(services);
    log(`started ${services.join(', ')} again`);
  }
  return { manifest, seconds: (Date.now() - started) / 1000, ...(audit ? { audit } : {}) };
}

async function verifyRestoredChain(ctx: StackContext, database: string, keys: CheckpointKeys, withCheckpoint: boolean): Promise<RestoreResult['audit']> {
  const store = await AuditStore.create({ databaseUrl: databaseUrl(postgresUrl(ctx, 'postgres'), database), migrate: false, poolSize: 1 });
  try {
    const raw = withCheckpoint ? (JSON.parse(readFileSync(auditCheckpointFile(ctx), 'utf8')) as unknown) : undefined;
    const result = await store.verify(raw === undefined ? {} : { checkpoint: openCheckpoint(raw, keys) });
    if (!result.ok) throw new BackupError('VERIFY_FAILED', `the restored audit chain does not verify: ${result.reason} at sequence ${result.firstBadSequence} (${result.detail})`);
    return { rows: result.rows, headSequence: result.headSequence, ...(result.checkpointSequence === undefined ? {} : { checkpointSequence: result.checkpointSequence }) };
  } finally {
    await store.close();
  }
}
