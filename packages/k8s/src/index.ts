export { ClusterGateway, type DryRunResult, type GatewayOptions, type RevertResult } from './gateway.js';
export { DEFAULT_BOUNDS, type GatewayBounds } from './changes.js';
export { ClusterResources, FIELD_MANAGER, type KubeObject, type ObjectRef, type ReadableKind, type ReadableRef, type RequestObserver } from './resources.js';
export type { Inspection } from './inspect.js';
export { INSPECTION_LIMITS, rolloutDecision, type RolloutExpectation, type RolloutStatus } from './status.js';
export {
  GATEWAY_ANNOTATIONS,
  HISTORY_LENGTH,
  RESTARTED_AT_ANNOTATION,
  REVISION_ANNOTATION,
  Receipt,
  receiptSchema,
  fromActionReceipt,
  toActionReceipt,
  type PriorState,
  type Target,
} from './receipt.js';
export type { RetryOptions } from './retry.js';
export * from './errors.js';
export { objectDiff, type ObjectDiff } from './diff.js';
export { parseQuantity } from './quantity.js';
