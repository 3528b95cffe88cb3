import { readFileSync, statSync } from 'node:fs';

/** A file could not be read (missing, unreadable, a directory, empty); the message names the file, never its content. */
export class FileReadError extends Error {
  constructor(
    readonly path: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${path} ${problem}`, options);
    this.name = 'FileReadError';
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return `cannot be read: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * The content of a file that may be replaced while the process runs (a Kubernetes Secret's projected file, a
 * rotated certificate): read again whenever its identity, size or modification time changed, so a new token,
 * password or certificate is used on the next request without a restart. Reading costs one `stat` per call.
 */
export class WatchedFile {
  private loaded: { readonly stamp: string; readonly content: Buffer } | undefined;

  constructor(readonly path: string) {}

  /** The current content (throws `FileReadError`); `version` changes whenever the content was read anew. */
  read(): { readonly content: Buffer; readonly version: string } {
    let stamp: string;
    try {
      const stat = statSync(this.path);
      if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      stamp = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
    } catch (error) {
      this.loaded = undefined;
      throw new FileReadError(this.path, describe(error), { cause: error });
    }
    if (this.loaded?.stamp !== stamp) {
      let content: Buffer;
      try {
        content = readFileSync(this.path);
      } catch (error) {
        this.loaded = undefined;
        throw new FileReadError(this.path, describe(error), { cause: error });
      }
      this.loaded = { stamp, content };
    }
    return { content: this.loaded.content, version: stamp };
  }

  /** The content as text without surrounding whitespace (a token or password file's trailing newline); an empty file throws. */
  text(): string {
    const text = this.read().content.toString('utf8').trim();
    if (text === '') throw new FileReadError(this.path, 'is empty');
    return text;
  }
}
