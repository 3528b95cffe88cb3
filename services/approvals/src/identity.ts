import { createHash, timingSafeEqual } from 'node:crypto';
import { APPROVAL_ERROR_CODES, ApprovalError } from './errors.js';
import type { ApproverTokens } from './tokens.js';

/**
 * Who calls the HTTP API, from the bearer token alone (never from the body): the worker (its token posts approval
 * requests and notes, and nothing else), or a person (a personal token: reads requests, decides, cancels — as the
 * token's owner, whatever name a body claims).
 */
export type HttpCaller = { readonly kind: 'worker' } | { readonly kind: 'person'; readonly name: string; readonly tokenId: string };

const digest = (value: string) => createHash('sha256').update(value).digest();

export class HttpIdentity {
  constructor(
    /** The worker's token (CORTEXOPS_APPROVALS_API_TOKEN); unset: nobody can post requests or notes. */
    private readonly workerToken: string | undefined,
    private readonly people: Pick<ApproverTokens, 'authenticate'>,
  ) {}

  /** The caller of a request with this `Authorization` header; throws 401 when the token is missing or valid for nobody. */
  async caller(authorization: string | undefined): Promise<HttpCaller> {
    const presented = /^Bearer (\S{1,512})$/i.exec(authorization ?? '')?.[1];
    if (presented === undefined) throw new ApprovalError(APPROVAL_ERROR_CODES.unauthenticated, 'A valid bearer token is required.');
    // Hashing first equalises the lengths for the constant-time comparison.
    if (this.workerToken !== undefined && timingSafeEqual(digest(presented), digest(this.workerToken))) return { kind: 'worker' };
    const person = await this.people.authenticate(presented);
    if (person) return { kind: 'person', ...person };
    throw new ApprovalError(APPROVAL_ERROR_CODES.unauthenticated, 'A valid bearer token is required (unknown, revoked or expired).');
  }
}

/** The route is the worker's (posting requests and notes): a personal token is refused. */
export function requireWorker(caller: HttpCaller, workerConfigured: boolean): void {
  if (!workerConfigured) throw new ApprovalError(APPROVAL_ERROR_CODES.notConfigured, "Posting requests and notes is not configured (CORTEXOPS_APPROVALS_API_TOKEN, the worker's token).");
  if (caller.kind !== 'worker') throw new ApprovalError(APPROVAL_ERROR_CODES.notAllowed, "Only the worker's token posts approval requests and notes; a personal token decides.");
}

/** The route is a person's (reading, deciding, cancelling): the worker's token is refused. Answers the person. */
export function requirePerson(caller: HttpCaller): string {
  if (caller.kind !== 'person') throw new ApprovalError(APPROVAL_ERROR_CODES.notAllowed, "The worker's token posts requests; it cannot read, decide or cancel. Use a personal token (cortexops-approve tokens create).");
  return caller.name;
}
