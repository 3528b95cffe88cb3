import { z } from 'zod';
import { isoTimestamp, sha256Hex } from './common.js';
import { defineContract } from './validation.js';

/**
 * The manifest of a CortexOps backup directory (`manifest.json`, written last): what each part is, every file with its
 * size and SHA-256, and the versions that wrote it. A restore reads nothing else before it has checked every file
 * against it. Paths are relative to the backup directory, with `/`.
 */
export const BACKUP_FORMAT = 'cortexops-backup/1';
export const BACKUP_MANIFEST_FILE = 'manifest.json';

const relativePath = z
  .string()
  .min(1)
  .max(512)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a path inside the backup directory');

export const backupManifestSchema = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  createdAt: isoTimestamp,
  /** How long taking it took. */
  seconds: z.number().min(0),
  /** Server and tool versions (PostgreSQL, pg_dump, NATS, the Temporal CLI, Qdrant) and the repository's commit. */
  versions: z.record(z.string(), z.string()),
  /** pg_dump archives (custom format), one per database. */
  databases: z.array(z.strictObject({ database: z.string().min(1).max(63), file: relativePath })),
  /** The development server's SQLite store, copied with SQLite's online backup; its workflow runs (the server's own not counted). */
  temporalSqlite: z.strictObject({ file: relativePath, executions: z.int() }).optional(),
  /** NATS stream snapshots (the server's own: `backup.json` and `stream.tar.s2` in `dir`). */
  streams: z.array(z.strictObject({ stream: z.string().min(1).max(255), dir: relativePath, messages: z.int().min(0), lastSequence: z.int().min(0) })),
  /** Qdrant collection snapshots. */
  collections: z.array(z.strictObject({ collection: z.string().min(1).max(255), file: relativePath, points: z.int().min(0) })),
  /** The signed audit checkpoint, copied before the database dump (so the dump's chain reaches it), and its key's id. */
  checkpoint: z.strictObject({ file: relativePath, keyId: z.string().regex(/^[0-9a-f]{16}$/), sequence: z.int().min(0) }).optional(),
  files: z.array(z.strictObject({ path: relativePath, bytes: z.int().min(0), sha256: sha256Hex })),
});
export type BackupManifest = z.output<typeof backupManifestSchema>;
export const BackupManifest = defineContract('BackupManifest', backupManifestSchema);
