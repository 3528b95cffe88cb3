import { ACTION_TYPES, COMPARISONS, PROMQL_TEMPLATES, riskLevel } from '@cortexops/contracts';
import { z } from 'zod';

/**
 * What the model is asked to answer (OpenAI structured output, strict: every field present, nothing else). It picks
 * an action of the catalogue with its parameters, a risk, a rationale, and at most four extra verification checks as
 * a template of the safe PromQL builder with a threshold — never a query. Anything else fails to parse and is refused.
 */
const nullableName = z.string().max(253).nullable();
export const proposalSchema = z.strictObject({
  action: z
    .strictObject({
      type: z.enum(ACTION_TYPES as [string, ...string[]]),
      kind: z.enum(['Deployment', 'StatefulSet', 'Pod', 'Node']),
      namespace: nullableName,
      name: z.string().max(253),
      container: nullableName,
      memory: z.string().max(64).nullable(),
      replicas: z.int().nullable(),
    })
    .nullable(),
  risk: riskLevel,
  rationale: z.string().min(1).max(2000),
  checks: z
    .array(
      z.strictObject({
        template: z.enum(PROMQL_TEMPLATES),
        op: z.enum(COMPARISONS),
        threshold: z.number(),
      }),
    )
    .max(4),
});
export type Proposal = z.output<typeof proposalSchema>;

/** The JSON schema sent as `response_format` (strict mode: all properties required, no additional ones). */
export const PROPOSAL_JSON_SCHEMA = z.toJSONSchema(proposalSchema, { target: 'draft-7' }) as Record<string, unknown>;

/** The catalogue action a proposal names, in the contracts' shape (null fields dropped); validated later. */
export function proposedAction(p: Proposal): Record<string, unknown> | undefined {
  if (p.action === null) return undefined;
  return Object.fromEntries(Object.entries(p.action).filter(([, v]) => v !== null));
}
