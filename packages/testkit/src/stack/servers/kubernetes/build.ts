import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installOnce } from '../../install.js';
import type { StackContext } from '../../types.js';

const run = promisify(execFile);

/** A Go module of the project's that pins and builds tools (`packages/testkit/tools/<name>/go.mod`). */
export const toolsModuleDir = (ctx: StackContext, name: string) => join(ctx.repoRoot, 'packages', 'testkit', 'tools', name);

export interface GoBinary {
  /** File name under `bin/`. */
  readonly name: string;
  /** Import path of its `main` package. */
  readonly pkg: string;
}

export interface GoBuild {
  /** Tool name and version: the build lands in `tools/<name>-<version>/bin/`. */
  readonly name: string;
  readonly version: string;
  /** The module (directory with go.mod and go.sum) the binaries are built from. */
  readonly moduleDir: string;
  /** `<module> <version>` that go.mod must require, so versions.ts and go.mod cannot drift apart. */
  readonly requires: { readonly module: string; readonly version: string };
  readonly binaries: readonly GoBinary[];
  readonly ldflags?: string;
}

/** Static binaries; the caller's GOFLAGS are kept. */
function goEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, CGO_ENABLED: '0', ...extra };
}

/** The version of `module` that the go.mod in `moduleDir` requires, if any. */
export function requiredVersion(moduleDir: string, module: string): string | undefined {
  const text = readFileSync(join(moduleDir, 'go.mod'), 'utf8');
  return new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+(\\S+)`, 'm').exec(text)?.[1];
}

/** Fails, naming the files, when go.mod does not require the version versions.ts pins. */
export function assertModulePins(build: Pick<GoBuild, 'moduleDir' | 'requires'>): void {
  const goMod = join(build.moduleDir, 'go.mod');
  const { module, version } = build.requires;
  const pinned = requiredVersion(build.moduleDir, module);
  if (pinned !== version) {
    throw new Error(`${goMod} requires ${module} ${pinned ?? '(nothing)'} but versions.ts pins ${version}; change both together`);
  }
}

async function assertGo(): Promise<void> {
  try {
    await run('go', ['version']);
  } catch (error) {
    throw new Error('the local Kubernetes control plane is built from Go modules: install Go (>= 1.26) and put `go` on PATH', { cause: error });
  }
}

/**
 * Builds Go binaries from one of the project's tool modules into `tools/<name>-<version>/bin/`, once
 * (a cached build is skipped; an interrupted one is never mistaken for a finished one).
 */
export function buildGoTools(ctx: StackContext, build: GoBuild): Promise<string> {
  assertModulePins(build);
  return installOnce(ctx, build.name, build.version, async (dir) => {
    await assertGo();
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const flags = ['build', '-trimpath', '-ldflags', `-s -w ${build.ldflags ?? ''}`.trim()];
    // One `go build` for all binaries shares compilation and links them in parallel.
    const [only] = build.binaries;
    const args =
      build.binaries.length === 1 && only
        ? [...flags, '-o', join(bin, only.name), only.pkg]
        : [...flags, '-o', `${bin}/`, ...build.binaries.map((b) => b.pkg)];
    // go.mod and go.sum are never rewritten by a build: a missing checksum is an error to fix in the repository.
    await run('go', args, { cwd: build.moduleDir, env: goEnv({ GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly`.trim() }), maxBuffer: 64 * 1024 * 1024 });
    for (const b of build.binaries) {
      if (!existsSync(join(bin, b.name))) throw new Error(`go build did not produce ${b.name} from ${b.pkg}`);
    }
  });
}

/** `go install module/pkg@version` into `<dir>/bin`, for modules that can be installed directly. */
export async function goInstall(dir: string, pkg: string, version: string): Promise<void> {
  await assertGo();
  await run('go', ['install', '-trimpath', '-ldflags', '-s -w', `${pkg}@${version}`], {
    env: goEnv({ GOBIN: join(dir, 'bin') }),
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** The directory of a downloaded module (`go mod download`), to read files it ships. */
export async function goModuleDir(module: string, version: string): Promise<string> {
  const { stdout } = await run('go', ['mod', 'download', '-json', `${module}@${version}`], { env: goEnv(), maxBuffer: 16 * 1024 * 1024 });
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? 'no directory'}`);
  return info.Dir;
}
