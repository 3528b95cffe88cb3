/** Why a backup or restore stopped; callers branch on `code`, never on the message. */
export const BACKUP_ERROR_CODES = {
  /** An option of the backup or restore is refused (a database name that is no safe name). */
  BAD_OPTION: 'BAD_OPTION',
  /** The backup directory is not one (no manifest), or a path in it leaves it. */
  BACKUP_NOT_FOUND: 'BACKUP_NOT_FOUND',
  /** A file of the backup is missing, has another size or checksum, or does not parse: nothing was restored. */
  BACKUP_CORRUPT: 'BACKUP_CORRUPT',
  /** A server to restore into holds data already, and `force` was not given: nothing was restored. */
  TARGET_NOT_EMPTY: 'TARGET_NOT_EMPTY',
  /** The audit checkpoint of the backup is signed with another key than the target's. */
  CHECKPOINT_KEY_MISMATCH: 'CHECKPOINT_KEY_MISMATCH',
  /** A tool (pg_dump, pg_restore, python3's sqlite3) failed. */
  TOOL_FAILED: 'TOOL_FAILED',
  NATS_API: 'NATS_API',
  NATS_SNAPSHOT: 'NATS_SNAPSHOT',
  NATS_RESTORE: 'NATS_RESTORE',
  QDRANT: 'QDRANT',
  /** After the restore the audit chain did not verify against the restored checkpoint. */
  VERIFY_FAILED: 'VERIFY_FAILED',
} as const;
export type BackupErrorCode = keyof typeof BACKUP_ERROR_CODES;

export class BackupError extends Error {
  constructor(
    readonly code: BackupErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BackupError';
  }
}
