import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { installDebianPackage } from '../stack/install.js';
import type { StackContext } from '../stack/types.js';
import { VERSIONS } from '../stack/versions.js';
import { BackupError } from './errors.js';

const run = promisify(execFile);

/**
 * pg_dump and pg_restore of the stack's PostgreSQL release (Debian's `postgresql-client-15` at the server's version,
 * with its `libpq5`), unpacked into the cache like the server: a dump is read by the same major version that wrote it.
 */
const CLIENT = { package: VERSIONS.postgres.package.replace('postgresql-', 'postgresql-client-'), version: VERSIONS.postgres.version } as const;
const LIBPQ = { package: 'libpq5', version: VERSIONS.postgres.version } as const;
const MAJOR = VERSIONS.postgres.package.split('-')[1] ?? '15';

export interface PgTools {
  readonly pgDump: string;
  readonly pgRestore: string;
  /** The environment the binaries need (their libpq). */
  readonly env: Readonly<Record<string, string>>;
  readonly version: string;
}

export async function pgTools(ctx: StackContext): Promise<PgTools> {
  const [client, libpq] = await Promise.all([installDebianPackage(ctx, CLIENT.package, CLIENT.version), installDebianPackage(ctx, LIBPQ.package, LIBPQ.version)]);
  const bin = join(client, 'usr', 'lib', 'postgresql', MAJOR, 'bin');
  // The multiarch directory the package put libpq in (x86_64-linux-gnu, aarch64-linux-gnu, ...).
  const libDir = readdirSync(join(libpq, 'usr', 'lib'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('libpq.so.5'))
    .map((file) => dirname(join(libpq, 'usr', 'lib', file)))[0];
  if (libDir === undefined) throw new BackupError('TOOL_FAILED', `${libpq} holds no libpq.so.5`);
  return {
    pgDump: join(bin, 'pg_dump'),
    pgRestore: join(bin, 'pg_restore'),
    env: { LD_LIBRARY_PATH: [libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') },
    version: `${CLIENT.package} ${CLIENT.version}`,
  };
}

/** Runs a tool; its stderr is the error's message when it fails. */
export async function tool(command: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<string> {
  try {
    const { stdout } = await run(command, [...args], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new BackupError('TOOL_FAILED', `${command.split('/').at(-1) ?? command} ${args.filter((a) => !a.includes('://')).join(' ')}: ${(e.stderr ?? '').trim() || e.message}`, { cause: error });
  }
}

/**
 * SQLite's online backup API (python3's `sqlite3.Connection.backup`, which every machine the stack runs on has): a
 * consistent copy of a database another process is writing, taken page by page under SQLite's own locks.
 */
const SQLITE_BACKUP = `
import sqlite3, sys
src = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True, timeout=30)
dst = sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.close()
src.close()
`;

/** `PRAGMA integrity_check` and the answer of a count query (-1 when its table does not exist). */
const SQLITE_CHECK = `
import sqlite3, sys
db = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True, timeout=30)
print(db.execute('PRAGMA integrity_check').fetchone()[0])
try:
    print(db.execute(sys.argv[2]).fetchone()[0])
except sqlite3.OperationalError:
    print(-1)
`;

export async function sqliteBackup(source: string, target: string): Promise<void> {
  await tool('python3', ['-c', SQLITE_BACKUP, source, target]);
}

/** Whether the file is an intact SQLite database, and what `countQuery` (one of ours, never input) answers there. */
export async function sqliteCheck(file: string, countQuery: string): Promise<{ ok: boolean; detail: string; rows: number }> {
  const [detail = '', rows = '-1'] = (await tool('python3', ['-c', SQLITE_CHECK, file, countQuery])).trim().split('\n');
  return { ok: detail === 'ok', detail, rows: Number(rows) };
}
