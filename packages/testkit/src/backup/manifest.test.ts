import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackupError } from './errors.js';
import { verifyBackup, writeManifest } from './manifest.js';
import { backupStack } from './stack.js';
import { createStackContext } from '../stack/context.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function backupDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cortexops-manifest-test-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'postgres'));
  writeFileSync(join(dir, 'postgres', 'cortexops.dump'), 'PGDMP dump bytes');
  return dir;
}

const base = { format: 'cortexops-backup/1' as const, createdAt: '2026-11-30T08:00:00.000Z', seconds: 1, versions: {}, databases: [{ database: 'cortexops', file: 'postgres/cortexops.dump' }], streams: [], collections: [] };

async function refusal(dir: string): Promise<BackupError> {
  const error = await verifyBackup(dir).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(BackupError);
  return error as BackupError;
}

describe('backup manifest — every file checked before a restore', () => {
  it('manifest — written with each file’s size and sha256, read back intact', async () => {
    const dir = backupDir();
    const written = await writeManifest(dir, base);
    expect(written.files).toEqual([{ path: 'postgres/cortexops.dump', bytes: 16, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown }]);
    expect(await verifyBackup(dir)).toEqual(written);
  });

  it('manifest — a changed, truncated or missing file, a part not listed, bad JSON, a foreign format or a path outside are refused with the reason', async () => {
    const cases: [string, (dir: string) => void, RegExp][] = [
      ['changed', (d) => writeFileSync(join(d, 'postgres', 'cortexops.dump'), 'PGDMP dump byteZ'), /postgres\/cortexops\.dump has sha256 [0-9a-f]{16}…, the manifest says/],
      ['truncated', (d) => writeFileSync(join(d, 'postgres', 'cortexops.dump'), 'PGDMP'), /postgres\/cortexops\.dump has 5 bytes, the manifest says 16/],
      ['missing', (d) => rmSync(join(d, 'postgres', 'cortexops.dump')), /postgres\/cortexops\.dump is missing/],
      ['not JSON', (d) => writeFileSync(join(d, 'manifest.json'), '{'), /manifest\.json is not JSON/],
      ['foreign format', (d) => writeFileSync(join(d, 'manifest.json'), JSON.stringify({ ...base, format: 'other/1', files: [] })), /format: /],
      ['no files list', (d) => writeFileSync(join(d, 'manifest.json'), JSON.stringify(base)), /files: /],
      ['path outside', (d) => writeFileSync(join(d, 'manifest.json'), JSON.stringify({ ...base, files: [{ path: '../x', bytes: 1, sha256: '0'.repeat(64) }] })), /files\[0\]\.path: must be a path inside the backup directory/],
      ['absolute path', (d) => writeFileSync(join(d, 'manifest.json'), JSON.stringify({ ...base, files: [{ path: '/etc/passwd', bytes: 1, sha256: '0'.repeat(64) }] })), /must be a path inside the backup directory/],
      ['part not listed', (d) => writeFileSync(join(d, 'manifest.json'), JSON.stringify({ ...base, files: [] })), /postgres\/cortexops\.dump is named by the backup but not in its file list/],
      ['bad checksum value', (d) => writeFileSync(join(d, 'manifest.json'), JSON.stringify({ ...base, files: [{ path: 'postgres/cortexops.dump', bytes: 16, sha256: 'abc' }] })), /sha256: must be a lowercase hex SHA-256/],
      ['negative size', (d) => writeFileSync(join(d, 'manifest.json'), JSON.stringify({ ...base, files: [{ path: 'postgres/cortexops.dump', bytes: -1, sha256: '0'.repeat(64) }] })), /bytes: /],
    ];
    for (const [what, harm, reason] of cases) {
      const dir = backupDir();
      await writeManifest(dir, base);
      harm(dir);
      const error = await refusal(dir);
      expect({ what, code: error.code }).toEqual({ what, code: 'BACKUP_CORRUPT' });
      expect(error.message, what).toMatch(reason);
    }
  });

  it('manifest — a directory without a manifest, or no directory at all, is not a backup', async () => {
    const dir = backupDir();
    expect((await refusal(dir)).message).toMatch(/is not a CortexOps backup: it has no manifest\.json/);
    expect((await refusal(join(dir, 'nowhere'))).code).toBe('BACKUP_NOT_FOUND');
    expect((await refusal(join(dir, 'postgres', 'cortexops.dump'))).message).toMatch(/is not a directory/);
  });

  it('backup — a database name that is not a safe name is refused before anything is written', async () => {
    const into = mkdtempSync(join(tmpdir(), 'cortexops-backup-into-'));
    dirs.push(into);
    const ctx = createStackContext({ log: () => undefined });
    for (const name of ['../etc', 'a/b', '', 'x'.repeat(64), '1abc', 'drop table']) {
      const error = await backupStack(ctx, { into, databases: [name] }).then(() => undefined, (e: unknown) => e);
      expect(error, name).toBeInstanceOf(BackupError);
      expect((error as BackupError).code).toBe('BAD_OPTION');
    }
    expect(readdirSync(into)).toEqual([]);
  });
});
