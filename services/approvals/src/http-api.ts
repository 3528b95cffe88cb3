import { createHash, timingSafeEqual } from 'node:crypto';
import { ApprovalRequest, approvalDecisionSchema, cancelRequestSchema, HTTP_PATHS, RemediationNote, toIssues } from '@cortexops/contracts';
import type { FastifyInstance, FastifyRequest, Logger } from '@cortexops/observability';
import { z } from 'zod';
import { APPROVAL_ERROR_CODES, ApprovalError, type ApprovalErrorCode } from './errors.js';
import { httpActor } from './identity.js';
import type { RefusalLog } from './refusals.js';
import type { ApprovalService } from './service.js';
import type { SlackApp } from './slack.js';

/**
 * Without Slack there is no channel to post to: the workflow's request or note is valid and simply not posted (it is
 * in the audit trail; decisions come through this API). Not a refusal, so nothing is recorded as one.
 */
const NOT_POSTED = { posted: false, detail: 'Slack is not configured; nothing posted (decide through the HTTP API or the CLI)' } as const;

/** The one place where refusals become HTTP statuses. */
export const HTTP_STATUS: Readonly<Record<ApprovalErrorCode, number>> = {
  [APPROVAL_ERROR_CODES.unauthenticated]: 401,
  [APPROVAL_ERROR_CODES.notAllowed]: 403,
  [APPROVAL_ERROR_CODES.invalid]: 400,
  [APPROVAL_ERROR_CODES.notFound]: 404,
  [APPROVAL_ERROR_CODES.duplicate]: 409,
  [APPROVAL_ERROR_CODES.expired]: 409,
  [APPROVAL_ERROR_CODES.notAwaiting]: 409,
  [APPROVAL_ERROR_CODES.stalePlan]: 409,
  [APPROVAL_ERROR_CODES.noPendingRequest]: 404,
  [APPROVAL_ERROR_CODES.notCancellable]: 409,
  [APPROVAL_ERROR_CODES.notConfigured]: 503,
  [APPROVAL_ERROR_CODES.upstream]: 502,
};

/**
 * Body of `POST /v1/approvals/:incidentId`: the request decided on and the plan it showed (from
 * `GET /v1/approval-requests/:incidentId`), the decision, who decides; the service stamps `decidedAt`.
 */
export const decisionBodySchema = z.strictObject({
  requestId: approvalDecisionSchema.shape.requestId,
  planHash: approvalDecisionSchema.shape.planHash,
  decision: approvalDecisionSchema.shape.decision,
  approver: approvalDecisionSchema.shape.approver,
  comment: approvalDecisionSchema.shape.comment,
  channel: z.enum(['http', 'cli']).default('http'),
});
export type DecisionBody = z.input<typeof decisionBodySchema>;

/** Body of `POST /v1/remediations/:incidentId/cancel`; the service stamps `requestedAt`. */
export const cancelBodySchema = z.strictObject({
  reason: cancelRequestSchema.shape.reason,
  actor: cancelRequestSchema.shape.actor,
  channel: z.enum(['http', 'cli']).default('http'),
});
export type CancelBody = z.input<typeof cancelBodySchema>;

export interface ApprovalRoutesOptions {
  readonly service: ApprovalService;
  readonly slack: SlackApp | undefined;
  /** Bearer token of the HTTP API; without it the API answers 503. */
  readonly apiToken: string | undefined;
  readonly logger: Logger;
  readonly refusals: RefusalLog;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Constant-time comparison of the presented bearer token (hashing first equalises the lengths). */
function authenticate(authorization: string | undefined, apiToken: string | undefined): void {
  if (apiToken === undefined) throw new ApprovalError(APPROVAL_ERROR_CODES.notConfigured, 'The HTTP approval API is not configured (CORTEXOPS_APPROVALS_API_TOKEN).');
  const presented = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
  if (presented === undefined || !timingSafeEqual(digest(presented), digest(apiToken))) {
    throw new ApprovalError(APPROVAL_ERROR_CODES.unauthenticated, 'A valid bearer token is required.');
  }
}

function invalid(contract: string, error: z.ZodError): ApprovalError {
  const issues = toIssues(error);
  return new ApprovalError(APPROVAL_ERROR_CODES.invalid, `invalid ${contract}: ${issues.map((i) => `${i.field}: ${i.problem}`).join('; ')}`, { details: issues });
}

/** What a refused HTTP attempt was about: the incident (path or note), who it claimed to be, its body. */
function attempt(request: FastifyRequest): { incidentId?: string; actor?: string; input?: unknown } {
  const body = typeof request.body === 'object' && request.body !== null ? (request.body as { approver?: unknown; actor?: unknown; incidentId?: unknown }) : {};
  const incidentId = (request.params as { incidentId?: unknown } | undefined)?.incidentId ?? body.incidentId;
  const claimed = body.approver ?? body.actor;
  return {
    ...(typeof incidentId === 'string' ? { incidentId } : {}),
    ...(typeof claimed === 'string' ? { actor: `http:${claimed}` } : {}),
    ...(request.body === undefined ? {} : { input: request.body }),
  };
}

/**
 * Slack's interactivity endpoint (raw body to Bolt's receiver, which checks the signature) and the
 * token-authenticated HTTP approval API.
 */
export async function registerApprovalRoutes(http: FastifyInstance, options: ApprovalRoutesOptions): Promise<void> {
  const { service, slack, apiToken, logger, refusals } = options;

  if (slack) {
    await http.register(async (scope) => {
      // Bolt must read the untouched body to verify Slack's signature: leave the stream unread here.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
      scope.post(HTTP_PATHS.slackEvents, (request, reply) => {
        reply.hijack();
        slack.handle(request.raw, reply.raw);
      });
    });
  }

  await http.register(async (api) => {
    api.addHook('onRequest', async (request) => authenticate(request.headers.authorization, apiToken));

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
      const body = decisionBodySchema.safeParse(request.body ?? {});
      if (!body.success) throw invalid('decision', body.error);
      const { comment, approver, ...rest } = body.data;
      return service.decide(request.params.incidentId, { ...rest, approver: httpActor(approver), ...(comment ? { comment } : {}) });
    });

    api.get<{ Params: { incidentId: string } }>(`${HTTP_PATHS.approvalRequests}/:incidentId`, async (request) => service.pending(request.params.incidentId));

    api.post(HTTP_PATHS.approvalRequests, async (request, reply) => {
      const parsed = ApprovalRequest.validate(request.body);
      if (!parsed.ok) throw new ApprovalError(APPROVAL_ERROR_CODES.invalid, parsed.error.message, { details: parsed.error.issues });
      if (!slack) return reply.code(200).send(NOT_POSTED);
      const message = await service.requestApproval(parsed.value);
      return reply.code(201).send({ posted: true, ...message });
    });

    api.post<{ Params: { incidentId: string } }>(`${HTTP_PATHS.remediations}/:incidentId/cancel`, async (request) => {
      const body = cancelBodySchema.safeParse(request.body ?? {});
      if (!body.success) throw invalid('cancel', body.error);
      return service.cancel(request.params.incidentId, { ...body.data, actor: httpActor(body.data.actor) });
    });

    api.post(HTTP_PATHS.notes, async (request, reply) => {
      const parsed = RemediationNote.validate(request.body);
      if (!parsed.ok) throw new ApprovalError(APPROVAL_ERROR_CODES.invalid, parsed.error.message, { details: parsed.error.issues });
      if (!slack) return reply.code(200).send(NOT_POSTED);
      return reply.code(201).send({ posted: true, ...(await service.note(parsed.value)) });
    });
  });
}
