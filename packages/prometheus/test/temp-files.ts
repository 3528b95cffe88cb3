import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory for a test file's credential and certificate files (0600), removed by `remove()`. */
export function tempFiles(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), `cortexops-${prefix}-`));
  return {
    dir,
    file: (name: string, content: string | Buffer): string => {
      const path = join(dir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    },
    remove: (): void => rmSync(dir, { recursive: true, force: true }),
  };
}
