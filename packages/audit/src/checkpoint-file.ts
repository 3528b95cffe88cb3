import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AuditCheckpoint } from '@cortexops/contracts';
import type { CheckpointStore } from './checkpoint.js';
import { AuditCheckpointError } from './errors.js';

/**
 * Checkpoints in one file (JSON, mode 0600), replaced atomically (written beside it, then renamed): a reader sees
 * the previous checkpoint or the new one, never half of one. Keep it where the database's roles cannot write.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly location: string;

  constructor(private readonly path: string) {
    this.location = `file ${path}`;
  }

  async read(): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new AuditCheckpointError(`cannot read ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new AuditCheckpointError(`${this.path} is not JSON`, { cause: error });
    }
  }

  async write(checkpoint: AuditCheckpoint): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temporary = join(dir, `.${basename(this.path)}.${randomBytes(4).toString('hex')}`);
    try {
      await writeFile(temporary, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600, flag: 'wx' });
      await rename(temporary, this.path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}
