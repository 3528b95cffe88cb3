import { API_ERROR_CODES, HTTP_PATHS } from '@cortexops/contracts';
import { ApiError } from './errors.js';

const TIMEOUT_MS = 30_000;

/** The approvals service's answer, passed on as it is (status and body): its refusals are the api's refusals. */
export interface Forwarded {
  readonly status: number;
  readonly body: unknown;
}

export interface DecisionInput {
  readonly decision: 'approve' | 'reject';
  readonly planHash?: string | undefined;
  readonly comment?: string | undefined;
  readonly channel: 'http' | 'cli';
}

/**
 * Manual actions go through the approvals service's HTTP API with the caller's own `Authorization` header: the same
 * authenticated path as every other decision (who decides is the owner of that credential, checked there), never a
 * second decision path here. The api keeps no credential of its own for this.
 */
export class ApprovalsForwarder {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  private async call(method: 'GET' | 'POST', path: string, authorization: string | undefined, body?: unknown): Promise<Forwarded> {
    let response: Response;
    try {
      response = await this.fetchImpl(new URL(path, this.baseUrl), {
        method,
        headers: { ...(authorization === undefined ? {} : { authorization }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new ApiError(API_ERROR_CODES.upstream, `the approvals service at ${this.baseUrl} could not be reached: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : {};
    } catch {
      throw new ApiError(API_ERROR_CODES.upstream, `the approvals service answered ${response.status} with a body that is not JSON`);
    }
    return { status: response.status, body: parsed };
  }

  /** The request waiting for a decision (the approvals service's `GET /v1/approval-requests/:incidentId`). */
  pending(incidentId: string, authorization: string | undefined): Promise<Forwarded> {
    return this.call('GET', `${HTTP_PATHS.approvalRequests}/${encodeURIComponent(incidentId)}`, authorization);
  }

  /**
   * Reads the request waiting, then decides on exactly that request and plan. With `planHash` (the prefix the caller
   * reviewed), a different plan waiting is refused here and nothing is sent.
   */
  async decide(incidentId: string, authorization: string | undefined, input: DecisionInput): Promise<Forwarded> {
    const pending = await this.pending(incidentId, authorization);
    if (pending.status !== 200) return pending;
    const request = (pending.body as { request?: { requestId?: unknown; planHash?: unknown } }).request;
    if (typeof request?.requestId !== 'string' || typeof request.planHash !== 'string') {
      throw new ApiError(API_ERROR_CODES.upstream, 'the approvals service answered without a request id and plan hash');
    }
    if (input.planHash !== undefined && !request.planHash.startsWith(input.planHash)) {
      return {
        status: 409,
        body: {
          error: API_ERROR_CODES.planMismatch,
          message: `The plan waiting (${request.planHash.slice(0, 12)}) is not the one you reviewed (${input.planHash}); nothing was sent. Review the new plan.`,
          issues: { current: request.planHash },
        },
      };
    }
    return this.call('POST', `${HTTP_PATHS.approvals}/${encodeURIComponent(incidentId)}`, authorization, {
      requestId: request.requestId,
      planHash: request.planHash,
      decision: input.decision,
      channel: input.channel,
      ...(input.comment ? { comment: input.comment } : {}),
    });
  }

  cancel(incidentId: string, authorization: string | undefined, input: { readonly reason: string; readonly channel: 'http' | 'cli' }): Promise<Forwarded> {
    return this.call('POST', `${HTTP_PATHS.remediations}/${encodeURIComponent(incidentId)}/cancel`, authorization, input);
  }

  /** A person asks for a new run of an ended remediation (who asks: the owner of the forwarded token; someone else approves it). */
  request(incidentId: string, authorization: string | undefined, input: { readonly reason: string; readonly channel: 'http' | 'cli' }): Promise<Forwarded> {
    return this.call('POST', `${HTTP_PATHS.remediations}/${encodeURIComponent(incidentId)}/request`, authorization, input);
  }
}
