import { ACTIVITY_FAILURES, ContractValidationError } from '@cortexops/contracts';
import { AuditInputError } from '@cortexops/audit';
import { K8S_ERROR_CODES, KubernetesForbiddenError, KubernetesGatewayError } from '@cortexops/k8s';
import { PolicyInputError } from '@cortexops/policy';
import { ApplicationFailure } from '@temporalio/activity';

/** Gateway codes whose failure type the workflow knows (everything else permanent is `KubernetesInvalid`). */
const FAILURE_OF_CODE: Partial<Record<string, string>> = {
  [K8S_ERROR_CODES.forbidden]: ACTIVITY_FAILURES.forbidden,
  [K8S_ERROR_CODES.notFound]: ACTIVITY_FAILURES.notFound,
  [K8S_ERROR_CODES.invalid]: ACTIVITY_FAILURES.invalid,
  [K8S_ERROR_CODES.targetChanged]: ACTIVITY_FAILURES.changedByOthers,
  [K8S_ERROR_CODES.targetReplaced]: ACTIVITY_FAILURES.changedByOthers,
  [K8S_ERROR_CODES.revertVerification]: ACTIVITY_FAILURES.revertFailed,
};

/**
 * The one place where an activity's error becomes what Temporal retries or not: permanent errors (bad input, RBAC,
 * invalid objects, someone else's change) end as non-retryable failures whose message a person can act on; transient
 * ones (conflicts, network, 5xx) are rethrown for Temporal's retry policy.
 */
export function asActivityFailure(error: unknown): Error {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof KubernetesGatewayError && !error.retryable) {
    const type = FAILURE_OF_CODE[error.code] ?? ACTIVITY_FAILURES.invalid;
    const details = error instanceof KubernetesForbiddenError ? [{ missing: error.missing }] : [];
    return ApplicationFailure.create({ message: error.message, type, nonRetryable: true, details, cause: error });
  }
  if (error instanceof PolicyInputError) return ApplicationFailure.nonRetryable(error.message, ACTIVITY_FAILURES.policyInput);
  if (error instanceof AuditInputError) return ApplicationFailure.nonRetryable(error.message, ACTIVITY_FAILURES.auditInput);
  if (error instanceof ContractValidationError) return ApplicationFailure.nonRetryable(error.message, ACTIVITY_FAILURES.invalidInput);
  return error instanceof Error ? error : new Error(String(error));
}

/** Runs an activity body, translating its failure once. */
export async function translated<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw asActivityFailure(error);
  }
}
