import type { AuditStore } from '@cortexops/audit';
import { AuditCheckpointError, AuditInputError, type VerifyResult } from '@cortexops/audit';
import {
  API_PATHS,
  type AuditRecord,
  auditListQuerySchema,
  auditPageSchema,
  auditVerifyReportSchema,
  apiErrorSchema,
  incidentDetailSchema,
  incidentIdParamsSchema,
  incidentListQuerySchema,
  incidentListSchema,
  incidentReviewSchema,
  manualCancelBodySchema,
  manualDecisionBodySchema,
} from '@cortexops/contracts';
import type { FastifyInstance, FastifyRequest, Logger } from '@cortexops/observability';
import fastifySwagger from '@fastify/swagger';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApprovalsForwarder, Forwarded } from './approvals-forward.js';
import { requireReadToken } from './auth.js';
import { API_ERROR_CODES, ApiError, HTTP_STATUS } from './errors.js';
import type { IncidentQueries } from './incident-queries.js';
import { incidentDetail } from './incident-view.js';
import { incidentReview, reviewMarkdown } from './review.js';

export interface ApiRoutesOptions {
  readonly store: Pick<AuditStore, 'getIncident' | 'query' | 'listActionReceipts'>;
  readonly incidents: IncidentQueries;
  /** Walks the chain: the store itself, or a checkpointer that checks it against the last signed checkpoint. */
  readonly verifier: { verify(): Promise<VerifyResult> };
  readonly approvals: ApprovalsForwarder;
  /** Bearer token of the read routes; without it they answer 503. */
  readonly readToken: string | undefined;
  readonly logger: Logger;
}

/**
 * What @fastify/swagger decorates the server with. Its type augmentation of `fastify` does not reach the instance type
 * the observability package exports (resolved from another directory), hence this narrow view.
 */
interface SwaggerDecorated {
  swagger(): unknown;
}

/** Most audit records one incident's detail or review reads (in pages of the store's maximum). */
const MAX_INCIDENT_RECORDS = 20_000;

const errors = { 400: apiErrorSchema, 401: apiErrorSchema, 404: apiErrorSchema, 503: apiErrorSchema };
const bearer = [{ bearer: [] }];

function validationIssues(error: { validation: readonly { instancePath?: string; message?: string }[]; validationContext?: string }) {
  return error.validation.map((v) => ({ field: `${error.validationContext ?? 'request'}${(v.instancePath ?? '').replace(/\//g, '.')}`, problem: v.message ?? 'is invalid' }));
}

/** Every audit record of one incident, oldest first. */
async function incidentRecords(store: ApiRoutesOptions['store'], incidentId: string): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  let afterSequence: number | undefined;
  do {
    const page = await store.query({ incidentId, limit: 1000, ...(afterSequence === undefined ? {} : { afterSequence }) });
    records.push(...page.records);
    afterSequence = page.nextAfterSequence;
  } while (afterSequence !== undefined && records.length < MAX_INCIDENT_RECORDS);
  return records;
}

/**
 * The api's routes on the service's HTTP server: validated by their zod schemas (the same schemas generate the
 * OpenAPI document at `/openapi.json`). Read routes take the api's bearer token; manual actions forward the
 * caller's own credential to the approvals service.
 */
export async function registerApiRoutes(http: FastifyInstance, options: ApiRoutesOptions): Promise<void> {
  const { store, incidents, verifier, approvals, readToken, logger } = options;

  // Added before the swagger plugin, so that the document does not list itself.
  http.get(API_PATHS.openapi, async () => (http as unknown as SwaggerDecorated).swagger());
  await http.register(fastifySwagger, {
    openapi: {
      info: { title: 'CortexOps api', description: 'Incidents, incident reviews, the audit trail and its verification, manual actions.', version: '1.0.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });

  await http.register(async (scope) => {
    scope.setValidatorCompiler(validatorCompiler);
    scope.setSerializerCompiler(serializerCompiler);
    scope.setErrorHandler(async (error: unknown, request, reply) => {
      if (error instanceof ApiError) {
        const status = HTTP_STATUS[error.code];
        logger.warn({ code: error.code, url: request.url, err: status >= 500 ? error : undefined }, `api refused: ${error.message}`);
        return reply.code(status).send({ error: error.code, message: error.message, ...(error.details ? { issues: error.details } : {}) });
      }
      if (hasZodFastifySchemaValidationErrors(error)) {
        const issues = validationIssues(error);
        return reply.code(400).send({ error: API_ERROR_CODES.invalid, message: `invalid input: ${issues.map((i) => `${i.field}: ${i.problem}`).join('; ')}`, issues });
      }
      if (error instanceof AuditInputError) {
        return reply.code(400).send({ error: API_ERROR_CODES.invalid, message: error.message, issues: error.issues });
      }
      const statusCode = (error as { statusCode?: unknown }).statusCode;
      if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
        // Fastify's own refusals: malformed JSON, too large, wrong content type.
        return reply.code(statusCode).send({ error: API_ERROR_CODES.invalid, message: (error as Error).message });
      }
      logger.error({ err: error, url: request.url }, 'api request failed');
      return reply.code(500).send({ error: 'INTERNAL', message: 'internal error' });
    });

    const app = scope.withTypeProvider<ZodTypeProvider>();

    // ---- read routes: the api's own bearer token ----
    await app.register(async (reads) => {
      reads.addHook('onRequest', async (request: FastifyRequest) => requireReadToken(request.headers.authorization, readToken));
      const typed = reads.withTypeProvider<ZodTypeProvider>();

      typed.get(API_PATHS.incidents, {
        schema: { summary: 'Incidents, most recently updated first', security: bearer, querystring: incidentListQuerySchema, response: { 200: incidentListSchema, ...errors } },
        handler: async (request) => incidents.list(request.query),
      });

      const loadIncident = async (incidentId: string) => {
        const incident = await store.getIncident(incidentId);
        if (!incident) throw new ApiError(API_ERROR_CODES.notFound, `no incident ${incidentId} in the audit store`);
        const [records, receipts] = await Promise.all([incidentRecords(store, incidentId), store.listActionReceipts(incidentId)]);
        return { incident, records, detail: incidentDetail(incident, records, receipts) };
      };
      const loadReview = async (incidentId: string) => {
        const { records, detail } = await loadIncident(incidentId);
        const summary = await incidents.summary(incidentId);
        if (!summary) throw new ApiError(API_ERROR_CODES.notFound, `no incident ${incidentId} in the audit store`);
        return incidentReview(summary, detail, records);
      };

      typed.get(`${API_PATHS.incidents}/:incidentId`, {
        schema: {
          summary: 'One incident: signals, diagnosis, plan, dry-run diff, policy decision, approvals, receipts, verification, outcome',
          security: bearer,
          params: incidentIdParamsSchema,
          response: { 200: incidentDetailSchema, ...errors },
        },
        handler: async (request) => (await loadIncident(request.params.incidentId)).detail,
      });

      typed.get(`${API_PATHS.incidents}/:incidentId/review`, {
        schema: { summary: "The incident review: a timeline drawn from the audit chain, plan, diff and verification", security: bearer, params: incidentIdParamsSchema, response: { 200: incidentReviewSchema, ...errors } },
        handler: async (request) => loadReview(request.params.incidentId),
      });

      typed.get(`${API_PATHS.incidents}/:incidentId/review.md`, {
        schema: { summary: 'The incident review as Markdown for a postmortem', security: bearer, params: incidentIdParamsSchema, produces: ['text/markdown'], response: { 200: z.string(), ...errors } },
        handler: async (request, reply) => {
          const markdown = reviewMarkdown(await loadReview(request.params.incidentId));
          return reply.type('text/markdown; charset=utf-8').send(markdown);
        },
      });

      typed.get(API_PATHS.audit, {
        schema: { summary: 'Audit records matching every filter, oldest first, by pages', security: bearer, querystring: auditListQuerySchema, response: { 200: auditPageSchema, ...errors } },
        handler: async (request) => store.query(request.query),
      });

      typed.get(API_PATHS.auditVerify, {
        schema: { summary: 'Walk the whole hash chain; name the first bad row', security: bearer, response: { 200: auditVerifyReportSchema, ...errors } },
        handler: async () => {
          const started = performance.now();
          const durationMs = () => Math.round(performance.now() - started);
          let result: VerifyResult;
          try {
            result = await verifier.verify();
          } catch (error) {
            // A checkpoint that cannot be trusted (unreadable, malformed, its signature wrong) leaves the chain unconfirmed.
            if (!(error instanceof AuditCheckpointError)) throw error;
            return { ok: false as const, rows: 0, firstBadSequence: 0, reason: 'checkpoint-invalid', detail: error.message, durationMs: durationMs() };
          }
          if (result.ok) {
            const checkpoint = result.checkpointSequence === undefined ? {} : { checkpointSequence: result.checkpointSequence };
            return { ok: true as const, rows: result.rows, headSequence: result.headSequence, headHash: result.headHash, ...checkpoint, durationMs: durationMs() };
          }
          return { ok: false as const, rows: result.rows, firstBadSequence: result.firstBadSequence, reason: result.reason, detail: result.detail, ...(result.row ? { row: { ...result.row } } : {}), durationMs: durationMs() };
        },
      });
    });

    // ---- manual actions: the caller's own credential, checked by the approvals service ----
    // The approvals service's answer, status and body as it gave them (its refusals: 401, 403, 404, 409).
    const answerBody = z.record(z.string(), z.unknown());
    const forwarded = { 200: answerBody, 400: apiErrorSchema, 401: apiErrorSchema, 403: apiErrorSchema, 404: apiErrorSchema, 409: apiErrorSchema, 502: apiErrorSchema, 503: apiErrorSchema };
    const status = (answer: Forwarded) => answer.status as 200;
    const body = (answer: Forwarded) => answer.body as Record<string, unknown>;
    for (const decision of ['approve', 'reject'] as const) {
      app.post(`${API_PATHS.incidents}/:incidentId/${decision}`, {
        schema: {
          summary: `${decision === 'approve' ? 'Approve' : 'Reject'} the plan waiting (through the approvals service, as the owner of the bearer token)`,
          security: bearer,
          params: incidentIdParamsSchema,
          body: manualDecisionBodySchema,
          response: forwarded,
        },
        handler: async (request, reply) => {
          const answer = await approvals.decide(request.params.incidentId, request.headers.authorization, { decision, ...request.body });
          return reply.code(status(answer)).send(body(answer));
        },
      });
    }
    app.post(`${API_PATHS.incidents}/:incidentId/cancel`, {
      schema: { summary: 'Cancel the remediation (after an apply, its change is reverted)', security: bearer, params: incidentIdParamsSchema, body: manualCancelBodySchema, response: forwarded },
      handler: async (request, reply) => {
        const answer = await approvals.cancel(request.params.incidentId, request.headers.authorization, request.body);
        return reply.code(status(answer)).send(body(answer));
      },
    });
    // Same body as a cancel ({reason, channel}); the requester is the owner of the forwarded token, never a body field.
    app.post(`${API_PATHS.incidents}/:incidentId/request`, {
      schema: { summary: 'Ask for a new run of an ended remediation (someone else must approve it)', security: bearer, params: incidentIdParamsSchema, body: manualCancelBodySchema, response: { ...forwarded, 201: answerBody } },
      handler: async (request, reply) => {
        const answer = await approvals.request(request.params.incidentId, request.headers.authorization, request.body);
        return reply.code(status(answer)).send(body(answer));
      },
    });
  });
}
