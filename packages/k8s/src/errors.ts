import type { ValidationIssue } from '@cortexops/contracts';

export const K8S_ERROR_CODES = {
  forbidden: 'K8S_FORBIDDEN',
  notFound: 'K8S_NOT_FOUND',
  conflict: 'K8S_CONFLICT',
  invalid: 'K8S_INVALID',
  unauthorized: 'K8S_UNAUTHORIZED',
  transient: 'K8S_TRANSIENT',
  api: 'K8S_API_ERROR',
  invalidInput: 'K8S_INVALID_INPUT',
  outOfBounds: 'K8S_OUT_OF_BOUNDS',
  noPreviousRevision: 'K8S_NO_PREVIOUS_REVISION',
  unsupportedTarget: 'K8S_UNSUPPORTED_TARGET',
  alreadyReverted: 'K8S_ALREADY_REVERTED',
  revertVerification: 'K8S_REVERT_VERIFICATION_FAILED',
  remediationIdReused: 'K8S_REMEDIATION_ID_REUSED',
  targetReplaced: 'K8S_TARGET_REPLACED',
  superseded: 'K8S_SUPERSEDED',
  receiptMismatch: 'K8S_RECEIPT_MISMATCH',
  targetChanged: 'K8S_TARGET_CHANGED',
} as const;
export type KubernetesErrorCode = (typeof K8S_ERROR_CODES)[keyof typeof K8S_ERROR_CODES];

/** What the gateway was doing when the API server answered: enough to name a missing permission. */
export interface RequestContext {
  readonly verb: 'get' | 'list' | 'patch' | 'delete';
  /** API group, '' for the core group. */
  readonly group: string;
  /** Plural resource, with its subresource if any (`deployments`, `pods`). */
  readonly resource: string;
  /** Absent for cluster-scoped resources (nodes). */
  readonly namespace?: string;
  readonly name?: string;
  readonly dryRun?: boolean;
}

/** Every error the gateway throws. `retryable` says whether trying the same call again may succeed. */
export abstract class KubernetesGatewayError extends Error {
  abstract readonly code: KubernetesErrorCode;
  abstract readonly retryable: boolean;
}

/** An error the API server answered, with what the gateway asked. */
export abstract class KubernetesApiError extends KubernetesGatewayError {
  constructor(
    message: string,
    readonly request: RequestContext,
    /** HTTP status, absent for network failures. */
    readonly status: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function describeRequest(req: RequestContext): string {
  const resource = req.group === '' ? req.resource : `${req.resource}.${req.group}`;
  const object = req.name === undefined ? resource : `${resource} "${req.name}"`;
  const where = req.namespace === undefined ? '(cluster scope)' : `in namespace "${req.namespace}"`;
  return `${req.verb}${req.dryRun ? ' (dry run)' : ''} ${object} ${where}`;
}

/** RBAC refused the call. The message names the missing verb, resource and namespace. */
export class KubernetesForbiddenError extends KubernetesApiError {
  readonly code = K8S_ERROR_CODES.forbidden;
  readonly retryable = false;
  /** The permission the caller lacks, as RBAC spells it. */
  readonly missing: { readonly verb: string; readonly group: string; readonly resource: string; readonly namespace?: string };
  constructor(req: RequestContext, readonly user: string | undefined, serverMessage: string, options?: ErrorOptions) {
    const resource = req.group === '' ? req.resource : `${req.resource}.${req.group}`;
    const scope = req.namespace === undefined ? 'cluster-wide' : `in namespace "${req.namespace}"`;
    super(
      `forbidden: ${user ?? 'the caller'} lacks permission to ${req.verb} ${resource} ${scope} (missing RBAC verb "${req.verb}" on resource "${resource}" ${scope}): ${serverMessage}`,
      req,
      403,
      options,
    );
    this.name = 'KubernetesForbiddenError';
    this.missing = { verb: req.verb, group: req.group, resource: req.resource, ...(req.namespace === undefined ? {} : { namespace: req.namespace }) };
  }
}

export class KubernetesNotFoundError extends KubernetesApiError {
  readonly code = K8S_ERROR_CODES.notFound;
  readonly retryable = false;
  constructor(req: RequestContext, serverMessage: string, options?: ErrorOptions) {
    super(`not found: ${describeRequest(req)}: ${serverMessage}`, req, 404, options);
    this.name = 'KubernetesNotFoundError';
  }
}

/** The object changed between read and write (resourceVersion or a precondition). Retried with a fresh read. */
export class KubernetesConflictError extends KubernetesApiError {
  readonly code = K8S_ERROR_CODES.conflict;
  readonly retryable = true;
  constructor(req: RequestContext, serverMessage: string, options?: ErrorOptions) {
    super(`conflict: ${describeRequest(req)}: ${serverMessage}`, req, 409, options);
    this.name = 'KubernetesConflictError';
  }
}

/** The API server rejected the object (422, or a 400 naming a bad field). */
export class KubernetesInvalidError extends KubernetesApiError {
  readonly code = K8S_ERROR_CODES.invalid;
  readonly retryable = false;
  constructor(
    req: RequestContext,
    serverMessage: string,
    /** The fields the server named, with its reason. */
    readonly causes: readonly { readonly field?: string; readonly message?: string }[],
    status: number,
    options?: ErrorOptions,
  ) {
    super(`invalid: ${describeRequest(req)}: ${serverMessage}`, req, status, options);
    this.name = 'KubernetesInvalidError';
  }
}

export class KubernetesUnauthorizedError extends KubernetesApiError {
  readonly code = K8S_ERROR_CODES.unauthorized;
  readonly retryable = false;
  constructor(req: RequestContext, options?: ErrorOptions) {
    super(`unauthorized: the API server did not accept the credentials (${describeRequest(req)})`, req, 401, options);
    this.name = 'KubernetesUnauthorizedError';
  }
}

/** Network failures, timeouts, 429 and 5xx: trying again later may succeed. */
export class KubernetesTransientError extends KubernetesApiError {
  readonly code = K8S_ERROR_CODES.transient;
  readonly retryable = true;
  constructor(req: RequestContext, detail: string, status: number | undefined, options?: ErrorOptions) {
    super(`transient failure: ${describeRequest(req)}: ${detail}`, req, status, options);
    this.name = 'KubernetesTransientError';
  }
}

/** Any other answer (unexpected status or error). */
export class KubernetesUnexpectedError extends KubernetesApiError {
  readonly code = K8S_ERROR_CODES.api;
  readonly retryable = false;
  constructor(req: RequestContext, detail: string, status: number | undefined, options?: ErrorOptions) {
    super(`unexpected answer: ${describeRequest(req)}: ${detail}`, req, status, options);
    this.name = 'KubernetesUnexpectedError';
  }
}

/** The action, remediation id or receipt failed validation; nothing was sent to the cluster. */
export class InvalidGatewayInputError extends KubernetesGatewayError {
  readonly code = K8S_ERROR_CODES.invalidInput;
  readonly retryable = false;
  readonly field: string;
  constructor(
    readonly what: string,
    readonly issues: readonly ValidationIssue[],
  ) {
    super(`invalid ${what}: ${issues.map((i) => `${i.field}: ${i.problem}`).join('; ')}`);
    this.name = 'InvalidGatewayInputError';
    this.field = issues[0]?.field ?? '(root)';
  }
}

/** The action asks for more than the configured bounds allow (or a "raise" that is not one). */
export class OutOfBoundsError extends KubernetesGatewayError {
  readonly code = K8S_ERROR_CODES.outOfBounds;
  readonly retryable = false;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`out of bounds: ${field} ${message}`);
    this.name = 'OutOfBoundsError';
  }
}

export class NoPreviousRevisionError extends KubernetesGatewayError {
  readonly code = K8S_ERROR_CODES.noPreviousRevision;
  readonly retryable = false;
  constructor(
    readonly namespace: string,
    readonly deployment: string,
    readonly currentRevision: number | undefined,
  ) {
    super(
      `no previous revision: Deployment ${namespace}/${deployment} has no ReplicaSet with a revision older than ${currentRevision ?? 'its current one'}, so there is nothing to roll back to`,
    );
    this.name = 'NoPreviousRevisionError';
  }
}

/** The target exists but the action cannot be done safely on it (e.g. a pod no controller would recreate). */
export class UnsupportedTargetError extends KubernetesGatewayError {
  readonly code = K8S_ERROR_CODES.unsupportedTarget;
  readonly retryable = false;
  constructor(message: string) {
    super(`unsupported target: ${message}`);
    this.name = 'UnsupportedTargetError';
  }
}

/** The object the receipt names was deleted and recreated (another uid): its prior spec does not apply to it. */
export class TargetReplacedError extends KubernetesGatewayError {
  readonly code = K8S_ERROR_CODES.targetReplaced;
  readonly retryable = false;
  constructor(target: string, readonly expectedUid: string, readonly actualUid: string | undefined) {
    super(`${target} is not the object the receipt was made for (uid ${actualUid ?? 'unknown'}, receipt has ${expectedUid}); nothing was changed`);
    this.name = 'TargetReplacedError';
  }
}

/** A remediation that cannot be applied or reverted as asked (permanent), named by its remediation id. */
export abstract class RemediationError extends KubernetesGatewayError {
  readonly retryable = false;
  constructor(
    readonly remediationId: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The remediation id was applied and then reverted on this object; applying it again is refused. */
export class AlreadyRevertedError extends RemediationError {
  readonly code = K8S_ERROR_CODES.alreadyReverted;
  constructor(remediationId: string, target: string) {
    super(remediationId, `remediation ${remediationId} was already reverted on ${target}; use a new remediation id to apply it again`);
  }
}

/** The remediation id is already on the object for a different action; ids name one action each. */
export class RemediationIdReusedError extends RemediationError {
  readonly code = K8S_ERROR_CODES.remediationIdReused;
  constructor(remediationId: string, target: string) {
    super(remediationId, `remediation ${remediationId} is already applied on ${target} for a different action; use a new remediation id`);
  }
}

/** An older remediation id, after a newer one was applied to the same object: applying it again would undo the newer one. */
export class SupersededRemediationError extends RemediationError {
  readonly code = K8S_ERROR_CODES.superseded;
  constructor(
    remediationId: string,
    target: string,
    /** The newest remediation the object records, applied after this one. */
    readonly newerId: string,
  ) {
    super(remediationId, `remediation ${remediationId} was applied to ${target} before ${newerId}, which supersedes it; it is not applied again`);
  }
}

/**
 * The receipt stored on the object does not belong to it (another kind, namespace, name or uid, another
 * remediation id) or cannot be read: anyone who can edit the object can write that annotation, so it is
 * neither returned nor acted on.
 */
export class ReceiptMismatchError extends RemediationError {
  readonly code = K8S_ERROR_CODES.receiptMismatch;
  constructor(
    remediationId: string,
    target: string,
    readonly problem: string,
  ) {
    super(remediationId, `the receipt of ${remediationId} stored on ${target} is refused: ${problem}; it was not returned or acted on`);
  }
}

/** The field the apply changed was changed again by someone else since: a revert would overwrite their change, so nothing was written. */
export class TargetChangedError extends RemediationError {
  readonly code = K8S_ERROR_CODES.targetChanged;
  constructor(
    remediationId: string,
    target: string,
    readonly field: string,
    /** The live field against its value before the apply: what a revert would overwrite. */
    readonly diff: string,
  ) {
    super(remediationId, `${field} of ${target} changed since ${remediationId} was applied (not by this remediation); not reverted, nothing was written. What a revert would overwrite:\n${diff}`);
  }
}

/** After a revert the object does not hold its prior spec. */
export class RevertVerificationError extends RemediationError {
  readonly code = K8S_ERROR_CODES.revertVerification;
  constructor(
    remediationId: string,
    target: string,
    readonly diff: string,
  ) {
    super(remediationId, `revert of ${remediationId} on ${target} did not restore the prior spec:\n${diff}`);
  }
}

const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);

interface StatusBody {
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes?: readonly { readonly field?: string; readonly message?: string }[] };
}

function parseStatus(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? (parsed) : { message: body };
    } catch {
      return { message: body.slice(0, 500) };
    }
  }
  return typeof body === 'object' && body !== null ? (body) : {};
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

const FORBIDDEN_USER = /User "([^"]+)" cannot/;

/**
 * Turns whatever `@kubernetes/client-node` threw into one of the gateway's errors. Callers branch on
 * the class or `code`, never on the message text.
 */
export function classifyKubernetesError(error: unknown, req: RequestContext): KubernetesGatewayError {
  if (error instanceof KubernetesGatewayError) return error;
  const status = (error as { code?: unknown }).code;
  const hasStatus = typeof status === 'number' && 'body' in (error as object);
  if (hasStatus) {
    const body = parseStatus((error as { body?: unknown }).body);
    const message = body.message ?? `HTTP ${status}`;
    if (status === 401) return new KubernetesUnauthorizedError(req, { cause: error });
    if (status === 403) return new KubernetesForbiddenError(req, FORBIDDEN_USER.exec(message)?.[1], message, { cause: error });
    if (status === 404) return new KubernetesNotFoundError(req, message, { cause: error });
    if (status === 409) return new KubernetesConflictError(req, message, { cause: error });
    if (status === 422 || (status === 400 && body.reason === 'BadRequest')) {
      return new KubernetesInvalidError(req, message, body.details?.causes ?? [], status, { cause: error });
    }
    if (TRANSIENT_STATUS.has(status)) return new KubernetesTransientError(req, message, status, { cause: error });
    return new KubernetesUnexpectedError(req, message, status, { cause: error });
  }
  const code = errorCode(error);
  const text = error instanceof Error ? error.message : String(error);
  if ((code !== undefined && TRANSIENT_NETWORK_CODES.has(code)) || (error as { type?: unknown }).type === 'request-timeout') {
    return new KubernetesTransientError(req, `${code ?? 'timeout'}: ${text}`, undefined, { cause: error });
  }
  return new KubernetesUnexpectedError(req, text, undefined, { cause: error });
}
