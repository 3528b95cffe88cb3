import { API_ERROR_CODES, type ApiErrorCode } from '@cortexops/contracts';

export { API_ERROR_CODES, type ApiErrorCode };

/** Why the api refused a request; callers branch on `code`, never on the message. */
export class ApiError extends Error {
  readonly details: unknown;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    options: { readonly cause?: unknown; readonly details?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.details = options.details;
  }
}

/** The one place where the api's refusals become HTTP statuses. */
export const HTTP_STATUS: Readonly<Record<ApiErrorCode, number>> = {
  [API_ERROR_CODES.unauthenticated]: 401,
  [API_ERROR_CODES.invalid]: 400,
  [API_ERROR_CODES.notFound]: 404,
  [API_ERROR_CODES.noPendingRequest]: 404,
  [API_ERROR_CODES.planMismatch]: 409,
  [API_ERROR_CODES.notConfigured]: 503,
  [API_ERROR_CODES.upstream]: 502,
};
