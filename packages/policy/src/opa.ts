import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OpaCommandError } from './errors.js';
import { BUILD_DIR, DEFAULT_DATA_PATH, DEFAULT_WASM_PATH, ENTRYPOINT, ENTRYPOINT_QUERY, POLICY_DIR, PREPARED_ENTRYPOINT } from './paths.js';

const run = promisify(execFile);

export interface OpaOptions {
  readonly log?: (message: string) => void;
}

/**
 * The pinned `opa` CLI (testkit's VERSIONS.opa), built from the Go module proxy into the tools cache
 * on first use and reused afterwards. Build- and test-time only: testkit is loaded lazily so that
 * services importing this package never need it.
 */
export async function ensureOpa(options: OpaOptions = {}): Promise<string> {
  const { createStackContext, installGoModule, VERSIONS } = await import('@cortexops/testkit');
  const ctx = createStackContext(options.log ? { log: options.log } : {});
  const dir = await installGoModule(ctx, 'opa', VERSIONS.opa.module, VERSIONS.opa.version);
  return join(dir, 'bin', 'opa');
}

/** Runs `opa <args>`; a non-zero exit is an {@link OpaCommandError} carrying stdout and stderr. */
export async function runOpa(args: readonly string[], options: OpaOptions & { readonly cwd?: string } = {}): Promise<{ stdout: string; stderr: string }> {
  const opa = await ensureOpa(options);
  try {
    return await run(opa, [...args], { cwd: options.cwd ?? POLICY_DIR, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new OpaCommandError(args, `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message, { cause: error });
  }
}

/** True when the wasm is missing or older than a Rego source (data is loaded at run time, not built in). */
export function wasmIsStale(wasmPath: string = DEFAULT_WASM_PATH): boolean {
  if (!existsSync(wasmPath)) return true;
  const built = statSync(wasmPath).mtimeMs;
  return policySources().some((f) => statSync(f).mtimeMs > built);
}

/** Builds the wasm when {@link wasmIsStale}; what tests and the bench call first. */
export async function ensurePolicyWasm(options: OpaOptions = {}): Promise<string> {
  return wasmIsStale() ? buildPolicyWasm(options) : DEFAULT_WASM_PATH;
}

/**
 * One decision from `opa eval` over the same sources and data: the reference the wasm must agree
 * with, and the baseline of the bench.
 */
export async function opaEval(input: unknown, options: OpaOptions & { readonly dataPath?: string } = {}): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'cortexops-policy-eval-'));
  try {
    const inputPath = join(dir, 'input.json');
    writeFileSync(inputPath, JSON.stringify(input));
    const data = options.dataPath ?? DEFAULT_DATA_PATH;
    const args = ['eval', '--format', 'json', '--input', inputPath, ...policySources().flatMap((f) => ['--data', f]), '--data', data, ENTRYPOINT_QUERY];
    const { stdout } = await runOpa(args, options);
    const output = JSON.parse(stdout) as { result?: { expressions: { value: unknown }[] }[] };
    return output.result?.[0]?.expressions[0]?.value;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Rego sources of the policy, without their `_test.rego` files. */
export function policySources(): string[] {
  return readdirSync(POLICY_DIR)
    .filter((f) => f.endsWith('.rego') && !f.endsWith('_test.rego'))
    .sort()
    .map((f) => join(POLICY_DIR, f));
}

/**
 * `opa build -t wasm -e cortexops/remediation/decision -e cortexops/remediation/prepared` over the policy sources, then `policy.wasm`
 * out of the bundle. The wasm is renamed into place, so a reader never sees half of one.
 */
export async function buildPolicyWasm(options: OpaOptions & { readonly wasmPath?: string; readonly sources?: readonly string[] } = {}): Promise<string> {
  const wasmPath = options.wasmPath ?? DEFAULT_WASM_PATH;
  const sources = options.sources ?? policySources();
  mkdirSync(BUILD_DIR, { recursive: true });
  const temp = mkdtempSync(join(BUILD_DIR, '.build-'));
  try {
    const bundle = join(temp, 'bundle.tar.gz');
    await runOpa(['check', '--strict', ...sources], options);
    await runOpa(['build', '-t', 'wasm', '-e', ENTRYPOINT, '-e', PREPARED_ENTRYPOINT, '-o', bundle, ...sources], options);
    // -m: stamp the wasm with the extraction time (the bundle stores 1970), so staleness checks work.
    await run('tar', ['-xzmf', bundle, '-C', temp, '/policy.wasm']);
    chmodSync(join(temp, 'policy.wasm'), 0o644);
    renameSync(join(temp, 'policy.wasm'), wasmPath);
    return wasmPath;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

export interface RegoCoverage {
  /** Percent of the policy's lines (without the test files) that `opa test` evaluated. */
  readonly total: number;
  readonly files: Readonly<Record<string, number>>;
}

/** `opa test --coverage` over policy/: how much of each source file the Rego unit tests reach. */
export async function regoCoverage(options: OpaOptions = {}): Promise<RegoCoverage> {
  const { stdout } = await runOpa(['test', '--coverage', '--format', 'json', POLICY_DIR], options);
  const report = JSON.parse(stdout) as { coverage?: number; files: Record<string, { coverage?: number }> };
  const files = Object.fromEntries(
    Object.entries(report.files)
      .filter(([file]) => !file.endsWith('_test.rego'))
      .map(([file, c]) => [file.replace(`${POLICY_DIR}/`, ''), c.coverage ?? 0]),
  );
  return { total: report.coverage ?? 0, files };
}
