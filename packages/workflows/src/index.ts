export * from './remediation.js';
export * from './bundler.js';
export { verdictOf, roundOutcome } from './verdict.js';
export { actionLabel, targetLabel } from './search.js';
export * from './approval-gate.js';
export { signedByOneOf } from './signature.js';
export type { RemediationSinks } from './sinks.js';
