import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/index.js';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'cortexops-backup-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The stack CLI as `make backup` / `make restore` run it; resolves with its exit code and output. */
async function stack(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'packages', 'testkit', 'src', 'cli.ts'), ...args], { cwd: REPO_ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** make, with its bootstrap (pnpm install) taken as done: a test never reinstalls the workspace under the others. */
async function make(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run('make', ['--no-print-directory', '-o', 'bootstrap', ...args], { cwd: REPO_ROOT, timeout: 60_000 });
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

// Only refusals: each is decided before the CLI touches a server, so the shared stack is never changed here (the
// restore itself is tested on private servers in backup-restore.test.ts).
describe('backup CLI — bad input is refused with its reason and exit 1, before anything is touched', () => {
  it('backup CLI — restore of a directory that does not exist, or is not a backup', async () => {
    const missing = await stack(['restore', join(scratch, 'nowhere')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${join(scratch, 'nowhere')} is not a directory`);
    const notBackup = await stack(['restore', scratch]);
    expect(notBackup.code).toBe(1);
    expect(notBackup.stderr).toContain(`${scratch} is not a CortexOps backup: it has no manifest.json`);
  });

  it('backup CLI — a database name that is no safe name, and a restore without its argument', async () => {
    const into = join(scratch, 'into');
    const bad = await stack(['backup', '--into', into, '--database', '../etc']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('database names are 1-63 of letters, digits and _');
    expect(readdirSync(scratch)).not.toContain('into');
    const noArgument = await stack(['restore']);
    expect(noArgument.code).toBe(1);
    expect(noArgument.stderr).toContain("missing required argument 'dir'");
    const makeRestore = await make(['restore']);
    expect(makeRestore.code).toBe(2);
    expect(makeRestore.stderr).toContain('usage: make restore BACKUP=<backup directory> [FORCE=1]');
  });
});
