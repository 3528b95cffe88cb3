import { Action, identifier, targetRef, toIssues, type TargetRef } from '@cortexops/contracts';
import { InvalidGatewayInputError } from './errors.js';
import { Receipt } from './receipt.js';

/**
 * Everything the gateway is handed is checked here, before any call to the cluster: the action
 * (catalogue shape; namespaces DNS-1123 labels, names DNS-1123 subdomains, container names labels,
 * memory quantities), the remediation id, and receipts handed back for a revert.
 */

export function validAction(input: unknown): Action {
  const result = Action.validate(input);
  if (!result.ok) throw new InvalidGatewayInputError('action (nothing was sent to the cluster)', result.error.issues);
  return result.value;
}

export function validRemediationId(input: unknown): string {
  const result = identifier.safeParse(input);
  if (!result.success) throw new InvalidGatewayInputError('remediation id (nothing was sent to the cluster)', toIssues(result.error).map((i) => ({ ...i, field: 'remediationId' })));
  return result.data;
}

export function validReceipt(input: unknown): Receipt {
  const result = Receipt.validate(input);
  if (!result.ok) throw new InvalidGatewayInputError('receipt (nothing was sent to the cluster)', result.error.issues);
  return result.value;
}

/** A receipt stored on an object by an earlier apply; `undefined` when it is not one. */
export function storedReceipt(json: string | undefined): Receipt | undefined {
  if (json === undefined) return undefined;
  try {
    const result = Receipt.validate(JSON.parse(json));
    return result.ok ? result.value : undefined;
  } catch {
    return undefined;
  }
}

/** A target to read (inspect, rollout status): a namespace for every kind but Node; a Node's namespace is dropped. */
export function validTarget(input: unknown): TargetRef {
  const result = targetRef.safeParse(input);
  if (!result.success) throw new InvalidGatewayInputError('target (nothing was sent to the cluster)', toIssues(result.error));
  const { kind, namespace, name } = result.data;
  if (kind === 'Node') return { kind, name };
  if (namespace === undefined) throw new InvalidGatewayInputError('target (nothing was sent to the cluster)', [{ field: 'namespace', problem: `is required for a ${kind}` }]);
  return { kind, namespace, name };
}
