import { ApprovalRequest, approvalDecisionSchema, cancelRequestSchema, HTTP_PATHS, RemediationNote, remediationRequestSchema, toIssues } from '@cortexops/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest, Logger } from '@cortexops/observability';
import { z } from 'zod';
import { APPROVAL_ERROR_CODES, ApprovalError, type ApprovalErrorCode } from './errors.js';
import { type HttpCaller, type HttpIdentity, requirePerson, requireWorker } from './identity.js';
import type { RefusalLog } from './refusals.js';
import type { ApprovalService } from './service.js';
import { SLACK_MAX_BODY_BYTES, type SlackApp } from './slack.js';

/**
 * Without Slack there is no channel to post to: the workflow's request or note is valid and simply not posted (it is
 * in the audit trail; decisions come through this API). Not a refusal, so nothing is recorded as one.
 */
const NOT_POSTED = { posted: false, detail: 'Slack is not configured; nothing posted (decide through the HTTP API or the CLI)' } as const;

/** The one place where refusals become HTTP statuses. */
export const HTTP_STATUS: Readonly<Record<ApprovalErrorCode, number>> = {
  [APPROVAL_ERROR_CODES.unauthenticated]: 401,
  [APPROVAL_ERROR_CODES.notAllowed]: 403,
  [APPROVAL_ERROR_CODES.selfApproval]: 403,
  [APPROVAL_ERROR_CODES.invalid]: 400,
  [APPROVAL_ERROR_CODES.notFound]: 404,
  [APPROVAL_ERROR_CODES.duplicate]: 409,
  [APPROVAL_ERROR_CODES.expired]: 409,
  [APPROVAL_ERROR_CODES.notAwaiting]: 409,
  [APPROVAL_ERROR_CODES.stalePlan]: 409,
  [APPROVAL_ERROR_CODES.noPendingRequest]: 404,
  [APPROVAL_ERROR_CODES.notCancellable]: 409,
  [APPROVAL_ERROR_CODES.remediationRunning]: 409,
  [APPROVAL_ERROR_CODES.notConfigured]: 503,
  [APPROVAL_ERROR_CODES.upstream]: 502,
};

/**
 * Body of `POST /v1/approvals/:incidentId`: the request decided on and the plan it showed (from
 * `GET /v1/approval-requests/:incidentId`) and the decision; the service stamps `decidedAt`. Who decides is the owner
 * of the bearer token: an `approver` in the body is accepted for older clients and never used.
 */
export const decisionBodySchema = z.strictObject({
  requestId: approvalDecisionSchema.shape.requestId,
  planHash: approvalDecisionSchema.shape.planHash,
  decision: approvalDecisionSchema.shape.decision,
  approver: approvalDecisionSchema.shape.approver.optional(),
  comment: approvalDecisionSchema.shape.comment,
  channel: z.enum(['http', 'cli']).default('http'),
});
export type DecisionBody = z.input<typeof decisionBodySchema>;

/** Body of `POST /v1/remediations/:incidentId/cancel`; the service stamps `requestedAt`; who cancels is the token's owner. */
export const cancelBodySchema = z.strictObject({
  reason: cancelRequestSchema.shape.reason,
  actor: cancelRequestSchema.shape.actor.optional(),
  channel: z.enum(['http', 'cli']).default('http'),
});
export type CancelBody = z.input<typeof cancelBodySchema>;

/**
 * Body of `POST /v1/remediations/:incidentId/request`: a person asks for a new run of an ended remediation. Who asks is
 * the token's owner (a `requestedBy` field is refused: the requester is never taken from a body).
 */
export const remediationRequestBodySchema = z.strictObject({
  reason: remediationRequestSchema.shape.reason,
  channel: z.enum(['http', 'cli']).default('http'),
});

export interface ApprovalRoutesOptions {
  readonly service: ApprovalService;
  readonly slack: SlackApp | undefined;
  /** Who calls, from the bearer token (the worker's token, or a person's). */
  readonly identity: HttpIdentity;
  /** The worker's token is configured: requests and notes can be posted. */
  readonly workerConfigured: boolean;
  readonly logger: Logger;
  readonly refusals: RefusalLog;
}

const CALLER = Symbol('cortexops.caller');
type WithCaller = FastifyRequest & { [CALLER]?: HttpCaller };

function callerOf(request: FastifyRequest): HttpCaller {
  const caller = (request as WithCaller)[CALLER];
  if (!caller) throw new ApprovalError(APPROVAL_ERROR_CODES.unauthenticated, 'A valid bearer token is required.');
  return caller;
}

/** Answers `status` and closes the connection: the rest of a refused upload is not read. */
function closeWith(reply: FastifyReply, status: number): FastifyReply {
  return reply.code(status).header('connection', 'close').send();
}

function invalid(contract: string, error: z.ZodError): ApprovalError {
  const issues = toIssues(error);
  return new ApprovalError(APPROVAL_ERROR_CODES.invalid, `invalid ${contract}: ${issues.map((i) => `${i.field}: ${i.problem}`).join('; ')}`, { details: issues });
}

/** What a refused HTTP attempt was about: the incident (path or note), who made it (from the token, else unknown), its body. */
function attempt(request: FastifyRequest): { incidentId?: string; actor?: string; input?: unknown } {
  const body = typeof request.body === 'object' && request.body !== null ? (request.body as { incidentId?: unknown }) : {};
  const incidentId = (request.params as { incidentId?: unknown } | undefined)?.incidentId ?? body.incidentId;
  const caller = (request as WithCaller)[CALLER];
  const actor = caller === undefined ? undefined : caller.kind === 'worker' ? 'http:worker' : `http:${caller.name}`;
  return {
    ...(typeof incidentId === 'string' ? { incidentId } : {}),
    ...(actor ? { actor } : {}),
    ...(request.body === undefined ? {} : { input: request.body }),
  };
}

/**
 * Slack's interactivity endpoint (raw body to Bolt's receiver, which checks the signature) and the
 * token-authenticated HTTP approval API.
 */
export async function registerApprovalRoutes(http: FastifyInstance, options: ApprovalRoutesOptions): Promise<void> {
  const { service, slack, identity, workerConfigured, logger, refusals } = options;

  if (slack) {
    await http.register(async (scope) => {
      // The body is read here, bounded before anything is buffered — a declared length over the limit is refused at
      // once, a chunked body as soon as its bytes pass the limit (Fastify counts them as they arrive) — and handed to
      // Bolt as read, since Bolt verifies Slack's signature over the exact bytes.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: SLACK_MAX_BODY_BYTES }, (_request, body, done) => done(null, body));
      scope.addHook('onRequest', async (request, reply) => {
        const refusal = slack.precheck(request.raw);
        if (refusal) await closeWith(reply, refusal.status);
      });
      scope.setErrorHandler(async (error: { code?: unknown; statusCode?: unknown }, request, reply) => {
        if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return closeWith(reply, slack.tooLarge(request.raw).status);
        const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
        logger.warn({ err: error, status }, 'slack request failed before Bolt');
        return closeWith(reply, status);
      });
      scope.post(HTTP_PATHS.slackEvents, (request, reply) => {
        reply.hijack();
        slack.handle(request.raw, reply.raw, Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));
      });
    });
  }

  await http.register(async (api) => {
    api.addHook('onRequest', async (request) => {
      (request as WithCaller)[CALLER] = await identity.caller(request.headers.authorization);
    });

    api.setErrorHandler(async (error: unknown, request, reply) => {
      if (error instanceof ApprovalError) {
        const status = HTTP_STATUS[error.code];
        logger.warn({ code: error.code, url: request.url, err: status >= 500 ? error : undefined }, `approval API refused: ${error.message}`);
        await refusals.record({ channel: 'http', code: error.code, reason: error.message, ...attempt(request) });
        return reply.code(status).send({ error: error.code, message: error.message, ...(error.details ? { issues: error.details } : {}) });
      }
      const statusCode = (error as { statusCode?: unknown }).statusCode;
      if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
        // Fastify's own refusals: malformed JSON, too large, wrong content type.
        logger.warn({ url: request.url, statusCode }, `approval API refused: ${(error as Error).message}`);
        await refusals.record({ channel: 'http', code: APPROVAL_ERROR_CODES.invalid, reason: (error as Error).message, ...attempt(request) });
        return reply.code(statusCode).send({ error: APPROVAL_ERROR_CODES.invalid, message: (error as Error).message });
      }
      logger.error({ err: error, url: request.url }, 'approval API failed');
      return reply.code(500).send({ error: 'INTERNAL', message: 'internal error' });
    });

    api.post<{ Params: { incidentId: string } }>(`${HTTP_PATHS.approvals}/:incidentId`, async (request) => {
      const approver = requirePerson(callerOf(request));
      const body = decisionBodySchema.safeParse(request.body ?? {});
      if (!body.success) throw invalid('decision', body.error);
      const { comment, approver: claimed, ...rest } = body.data;
      if (claimed !== undefined && claimed !== approver) logger.warn({ approver, claimed }, 'a decision body named someone else; recorded as the token owner');
      const outcome = await service.decide(request.params.incidentId, { ...rest, approver, ...(comment ? { comment } : {}) });
      return { ...outcome, approver };
    });

    api.get<{ Params: { incidentId: string } }>(`${HTTP_PATHS.approvalRequests}/:incidentId`, async (request) => {
      requirePerson(callerOf(request));
      return service.pending(request.params.incidentId);
    });

    api.post(HTTP_PATHS.approvalRequests, async (request, reply) => {
      requireWorker(callerOf(request), workerConfigured);
      const parsed = ApprovalRequest.validate(request.body);
      if (!parsed.ok) throw new ApprovalError(APPROVAL_ERROR_CODES.invalid, parsed.error.message, { details: parsed.error.issues });
      if (!slack) return reply.code(200).send(NOT_POSTED);
      const message = await service.requestApproval(parsed.value);
      return reply.code(201).send({ posted: true, ...message });
    });

    api.post<{ Params: { incidentId: string } }>(`${HTTP_PATHS.remediations}/:incidentId/cancel`, async (request) => {
      const actor = requirePerson(callerOf(request));
      const body = cancelBodySchema.safeParse(request.body ?? {});
      if (!body.success) throw invalid('cancel', body.error);
      const outcome = await service.cancel(request.params.incidentId, { reason: body.data.reason, channel: body.data.channel, actor });
      return { ...outcome, actor };
    });

    api.post<{ Params: { incidentId: string } }>(`${HTTP_PATHS.remediations}/:incidentId/request`, async (request, reply) => {
      const requestedBy = requirePerson(callerOf(request));
      const body = remediationRequestBodySchema.safeParse(request.body ?? {});
      if (!body.success) throw invalid('remediation request', body.error);
      const started = await service.requestRemediation(request.params.incidentId, { requestedBy, reason: body.data.reason, channel: body.data.channel });
      return reply.code(201).send({ started: true, ...started });
    });

    api.post(HTTP_PATHS.notes, async (request, reply) => {
      requireWorker(callerOf(request), workerConfigured);
      const parsed = RemediationNote.validate(request.body);
      if (!parsed.ok) throw new ApprovalError(APPROVAL_ERROR_CODES.invalid, parsed.error.message, { details: parsed.error.issues });
      if (!slack) return reply.code(200).send(NOT_POSTED);
      return reply.code(201).send({ posted: true, ...(await service.note(parsed.value)) });
    });
  });
}
