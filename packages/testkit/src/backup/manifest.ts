import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BACKUP_FORMAT, BACKUP_MANIFEST_FILE as MANIFEST_FILE, BackupManifest } from '@cortexops/contracts';
import { BackupError } from './errors.js';

export type Manifest = BackupManifest;
type ManifestFile = BackupManifest['files'][number];

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), base) : [relative(base, join(dir, e.name))]));
}

/** Writes the manifest of `dir`: every file in it (but the manifest) with its size and sha256. */
export async function writeManifest(dir: string, manifest: Omit<Manifest, 'files'>): Promise<Manifest> {
  const paths = walk(dir).filter((p) => p !== MANIFEST_FILE).sort();
  const files: ManifestFile[] = [];
  for (const path of paths) files.push({ path: path.split(sep).join('/'), bytes: statSync(join(dir, path)).size, sha256: await sha256Of(join(dir, path)) });
  const complete: Manifest = { ...manifest, files };
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(complete, null, 2)}\n`, { mode: 0o600 });
  return complete;
}

/** A manifest path, refused when it would leave the backup directory. */
export function inside(dir: string, path: string): string {
  const clean = normalize(path);
  if (isAbsolute(clean) || clean === '..' || clean.startsWith(`..${sep}`)) throw new BackupError('BACKUP_CORRUPT', `the manifest names ${JSON.stringify(path)}, outside the backup directory`);
  return join(dir, clean);
}

/**
 * Reads and checks a backup directory before anything is restored: the manifest is there and of this format, every
 * file it lists is there with its size and checksum, and every file a part of the backup names is listed.
 */
export async function verifyBackup(dir: string): Promise<Manifest> {
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BackupError('BACKUP_NOT_FOUND', `${dir} is not a directory`);
  if (!existsSync(manifestPath)) throw new BackupError('BACKUP_NOT_FOUND', `${dir} is not a CortexOps backup: it has no ${MANIFEST_FILE} (a backup still being written, or one that failed, has none)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new BackupError('BACKUP_CORRUPT', `${manifestPath} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = BackupManifest.validate(raw);
  if (!parsed.ok) throw new BackupError('BACKUP_CORRUPT', `${manifestPath} is not a ${BACKUP_FORMAT} manifest: ${parsed.error.issues.map((i) => `${i.field}: ${i.problem}`).join('; ')}`);
  const manifest = parsed.value;
  const problems: string[] = [];
  for (const f of manifest.files) {
    const path = inside(dir, f.path);
    if (!existsSync(path)) {
      problems.push(`${f.path} is missing`);
      continue;
    }
    const bytes = statSync(path).size;
    if (bytes !== f.bytes) {
      problems.push(`${f.path} has ${bytes} bytes, the manifest says ${f.bytes}`);
      continue;
    }
    const sum = await sha256Of(path);
    if (sum !== f.sha256) problems.push(`${f.path} has sha256 ${sum.slice(0, 16)}…, the manifest says ${f.sha256.slice(0, 16)}…`);
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  const named = [
    ...manifest.databases.map((d) => d.file),
    ...(manifest.temporalSqlite ? [manifest.temporalSqlite.file] : []),
    ...manifest.streams.flatMap((s) => [`${s.dir}/backup.json`, `${s.dir}/stream.tar.s2`]),
    ...manifest.collections.map((c) => c.file),
    ...(manifest.checkpoint ? [manifest.checkpoint.file] : []),
  ];
  for (const path of named) if (!listed.has(path)) problems.push(`${path} is named by the backup but not in its file list`);
  if (problems.length > 0) throw new BackupError('BACKUP_CORRUPT', `backup ${dir} is damaged, nothing was restored: ${problems.join('; ')}`);
  return manifest;
}
