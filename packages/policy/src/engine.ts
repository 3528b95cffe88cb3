import { readFile } from 'node:fs/promises';
import { PolicyDecision, PolicyInput } from '@cortexops/contracts';
import type { Logger } from '@cortexops/observability';
import { type LoadedPolicy, loadPolicy } from '@open-policy-agent/opa-wasm';
import { policyBundleHash, sha256Hex } from './bundle.js';
import { VIOLATION_CODES } from './codes.js';
import { PolicyBundleError, PolicyDataError, PolicyEvaluationError, PolicyInputError } from './errors.js';
import { DEFAULT_DATA_PATH, DEFAULT_WASM_PATH, ENTRYPOINT, PREPARED_DATA_KEY, PREPARED_ENTRYPOINT } from './paths.js';

export interface PolicyEngineOptions {
  /** Compiled policy (`opa build -t wasm`), default `packages/policy/build/policy.wasm`. */
  readonly wasmPath?: string;
  /** Policy data (`{ "remediation_policy": {...} }`), default `packages/policy/policy/data.json`. */
  readonly dataPath?: string;
  readonly logger?: Logger;
}

export type PolicyEngineStatus =
  | { readonly ready: true; readonly wasmPath: string; readonly dataSource: string; readonly bundleHash: string }
  | { readonly ready: false; readonly problem: string; readonly error: PolicyBundleError | PolicyDataError; readonly bundleHash: string };

/**
 * Policy data as the Rego expects it, without a prepared part; anything else is refused before it
 * reaches the wasm. A copy through JSON: what the wasm gets, hashed as it is, and safe from a caller
 * who changes the object afterwards.
 */
function checkData(data: unknown, source: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new PolicyDataError(`policy data from ${source} must be a JSON object`);
  }
  const policy = (data as Record<string, unknown>)['remediation_policy'];
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw new PolicyDataError(`policy data from ${source} has no "remediation_policy" object`);
  }
  const { [PREPARED_DATA_KEY]: _stale, ...plain } = data as Record<string, unknown>;
  return JSON.parse(JSON.stringify(plain)) as Record<string, unknown>;
}

async function readData(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PolicyDataError(`cannot read policy data ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PolicyDataError(`policy data ${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  return checkData(parsed, path);
}

interface LoadedWasm {
  readonly policy: LoadedPolicy;
  /** SHA-256 of the wasm bytes. */
  readonly sha256: string;
}

async function loadWasm(path: string): Promise<LoadedWasm> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new PolicyBundleError(`cannot read the policy wasm ${path} (run \`pnpm --filter @cortexops/policy build\`): ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    const policy = await loadPolicy(bytes);
    const entrypoints = policy.entrypoints as Record<string, number>;
    for (const entrypoint of [ENTRYPOINT, PREPARED_ENTRYPOINT]) {
      if (!(entrypoint in entrypoints)) throw new Error(`it has no entrypoint ${entrypoint} (has ${Object.keys(entrypoints).join(', ') || 'none'})`);
    }
    return { policy, sha256: sha256Hex(bytes) };
  } catch (error) {
    throw new PolicyBundleError(`cannot load the policy wasm ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Sets the data, then hands the policy its own `prepared` answer over that data (problems, freeze
 * windows in seconds ...) so that decisions do not recompute it: the same Rego rules, run once.
 */
function install(policy: LoadedPolicy, plain: Record<string, unknown>): void {
  policy.setData(plain);
  const result: unknown = policy.evaluate({}, PREPARED_ENTRYPOINT);
  const prepared: unknown = Array.isArray(result) && result.length === 1 ? (result[0] as { result?: unknown }).result : undefined;
  if (typeof prepared !== 'object' || prepared === null) {
    throw new PolicyDataError(`the policy could not prepare this data (answered ${JSON.stringify(result)})`);
  }
  policy.setData({ ...plain, [PREPARED_DATA_KEY]: prepared });
}

/** The engine's own fail-closed answer: denied, and in observe mode (the safest). */
function denial(code: string, why: string): PolicyDecision {
  return { allow: false, mode: 'observe', requireApproval: false, reasons: [], violations: [`${code}: ${why}`] };
}

/**
 * The OPA policy gate, evaluated in-process from the compiled wasm. Fails closed: when the bundle or
 * its data cannot be loaded, or an evaluation throws or answers something that is not a
 * `PolicyDecision`, the decision is a denial (mode observe) whose violation names why.
 */
export class PolicyEngine {
  private wasm: LoadedWasm | undefined;
  private problem: PolicyBundleError | PolicyDataError | undefined;
  private dataSource: string;
  /** The data in force (without its prepared part), restored when a reload cannot be prepared. */
  private current: Record<string, unknown> | undefined;
  /** See `bundleHash()`; changed in the same synchronous step as the wasm's data. */
  private hash = policyBundleHash(null, null);

  private constructor(
    private readonly wasmPath: string,
    /** The data file `reloadData()` re-reads (the default when none was given). */
    readonly dataPath: string,
    private readonly logger: Logger | undefined,
  ) {
    this.dataSource = dataPath;
  }

  /** Never throws for a bad bundle or data: the engine then denies everything (see `status`). */
  static async create(options: PolicyEngineOptions = {}): Promise<PolicyEngine> {
    const engine = new PolicyEngine(options.wasmPath ?? DEFAULT_WASM_PATH, options.dataPath ?? DEFAULT_DATA_PATH, options.logger);
    const [policy, data] = await Promise.allSettled([loadWasm(engine.wasmPath), readData(engine.dataPath)]);
    if (policy.status === 'fulfilled' && data.status === 'fulfilled') {
      try {
        install(policy.value.policy, data.value);
        engine.wasm = policy.value;
        engine.current = data.value;
        engine.hash = policyBundleHash(policy.value.sha256, data.value);
      } catch (error) {
        engine.fail(error instanceof PolicyDataError ? error : new PolicyDataError(`cannot prepare the policy data: ${(error as Error).message}`, { cause: error }));
        return engine;
      }
      engine.logger?.info({ wasmPath: engine.wasmPath, dataPath: engine.dataPath }, 'policy: loaded');
    } else {
      // Name every problem at once: fixing the wasm should not reveal a second one only then.
      const problems = [policy, data].flatMap((r) => (r.status === 'rejected' ? [r.reason as PolicyBundleError | PolicyDataError] : []));
      const [first] = problems as [PolicyBundleError | PolicyDataError];
      engine.fail(problems.length === 1 ? first : new PolicyBundleError(problems.map((p) => p.message).join('; '), { cause: first }));
    }
    return engine;
  }

  status(): PolicyEngineStatus {
    if (this.wasm && !this.problem) return { ready: true, wasmPath: this.wasmPath, dataSource: this.dataSource, bundleHash: this.hash };
    const error = this.problem ?? new PolicyBundleError('policy not loaded');
    return { ready: false, problem: error.message, error, bundleHash: this.hash };
  }

  /**
   * SHA-256 (lowercase hex) of the wasm bytes and the canonical data in force (see `policyBundleHash`):
   * names the exact policy that `decide()` answers with; a reload changes it. Read it in the same
   * synchronous turn as the decisions it goes with (no `await` between): a reload can only happen in
   * between. While the engine fails closed it is the hash of `{"data": null, "wasm": null}`.
   */
  bundleHash(): string {
    return this.hash;
  }

  /**
   * Replaces the policy data without a restart: from `data` when given, else by re-reading the data
   * file. Bad data is refused with {@link PolicyDataError} and the data in force stays (the last good
   * data keeps deciding); an engine that was denying for lack of data starts deciding again.
   */
  async reloadData(data?: unknown): Promise<void> {
    const next = data === undefined ? await readData(this.dataPath) : checkData(data, 'reloadData()');
    if (!this.wasm) {
      // The wasm itself never loaded: try again, since it may have been built since.
      try {
        this.wasm = await loadWasm(this.wasmPath);
      } catch (error) {
        this.fail(error as PolicyBundleError);
        throw error;
      }
    }
    const { policy, sha256 } = this.wasm;
    try {
      install(policy, next);
    } catch (error) {
      // Keep deciding with the data in force: put it back.
      if (this.current) install(policy, this.current);
      throw error instanceof PolicyDataError ? error : new PolicyDataError(`cannot prepare the policy data: ${(error as Error).message}`, { cause: error });
    }
    this.current = next;
    this.hash = policyBundleHash(sha256, next);
    this.problem = undefined;
    this.dataSource = data === undefined ? this.dataPath : 'reloadData()';
    this.logger?.info({ dataSource: this.dataSource }, 'policy: data reloaded');
  }

  /**
   * The decision for one proposed action. Throws {@link PolicyInputError} (naming each bad field)
   * when `input` is not a `PolicyInput`; every other failure is a denial.
   */
  decide(input: unknown): PolicyDecision {
    const checked = PolicyInput.validate(input);
    if (!checked.ok) throw new PolicyInputError(checked.error);
    if (!this.wasm || this.problem) {
      const why = this.problem?.message ?? 'policy not loaded';
      return denial(VIOLATION_CODES.policyUnavailable, why);
    }
    let result: unknown;
    try {
      result = this.wasm.policy.evaluate(checked.value, ENTRYPOINT);
    } catch (error) {
      return this.evaluationFailed(new PolicyEvaluationError(`evaluation threw: ${(error as Error).message}`, { cause: error }));
    }
    const value: unknown = Array.isArray(result) && result.length === 1 ? (result[0] as { result?: unknown }).result : undefined;
    const decision = PolicyDecision.validate(value);
    if (!decision.ok) {
      const shape = value === undefined ? `an empty result set (${JSON.stringify(result)})` : decision.error.message;
      return this.evaluationFailed(new PolicyEvaluationError(`the policy answered ${shape}`, { cause: decision.ok ? undefined : decision.error }));
    }
    return decision.value;
  }

  private evaluationFailed(error: PolicyEvaluationError): PolicyDecision {
    this.logger?.error({ err: error }, 'policy: evaluation failed, denying');
    return denial(VIOLATION_CODES.policyEvaluationFailed, error.message);
  }

  private fail(error: PolicyBundleError | PolicyDataError): void {
    this.problem = error;
    this.hash = policyBundleHash(null, null);
    this.logger?.error({ err: error }, 'policy: cannot load, every decision is a denial');
  }
}
