export { PolicyEngine, type PolicyEngineOptions, type PolicyEngineStatus } from './engine.js';
export { policyBundleHash } from './bundle.js';
export {
  OpaCommandError,
  PolicyError,
  POLICY_ERROR_CODES,
  PolicyBundleError,
  PolicyDataError,
  PolicyEvaluationError,
  PolicyInputError,
  type PolicyErrorCode,
} from './errors.js';
export { codeOf, REASON_CODES, reasonCodes, shouldEscalate, VIOLATION_CODES, violationCodes, type ReasonCode, type ViolationCode } from './codes.js';
export {
  buildPolicyWasm,
  ensureOpa,
  ensurePolicyWasm,
  opaEval,
  policySources,
  regoCoverage,
  runOpa,
  wasmIsStale,
  type OpaOptions,
  type RegoCoverage,
} from './opa.js';
export { DEFAULT_DATA_PATH, DEFAULT_WASM_PATH, ENTRYPOINT, ENTRYPOINT_QUERY, POLICY_DIR } from './paths.js';
