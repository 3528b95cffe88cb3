import { RemediationPlan, type Action, type Diagnosis, type Incident, type TargetRef } from '@cortexops/contracts';
import { parseQuantity, type GatewayBounds } from '@cortexops/k8s';
import { renderPromql } from '@cortexops/prometheus';
import { maxRisk, riskOf, riskRank } from './risk.js';
import { actionTarget, allowedTargets, describeTarget, isWorkload, sameObject } from './targets.js';

/**
 * The guard every plan passes before the workflow uses it, whoever proposed it — the heuristics, an LLM, a person
 * (DESIGN.md, safety rule 2). It answers with the problems found; an empty list means the plan may go on to the dry
 * run and the policy (which still decide).
 */

export const PLAN_PROBLEM_CODES = {
  /** Not a RemediationPlan: an action outside the catalogue, a name that is not DNS-1123, a missing field ... */
  invalid: 'plan-invalid',
  /** The plan is for another incident. */
  otherIncident: 'plan-other-incident',
  /** An action writes an object that is neither the incident's own nor its named owner. */
  targetNotAllowed: 'target-not-allowed',
  /** A parameter is outside the configured bounds (replicas, memory) or contradicts the live state. */
  outOfBounds: 'parameter-out-of-bounds',
  /** The plan claims less risk than its actions carry. */
  riskUnderstated: 'risk-understated',
  /** A verification check does not measure the plan's target, or its query is not the safe builder's. */
  verificationMismatch: 'verification-mismatch',
} as const;
export type PlanProblemCode = (typeof PLAN_PROBLEM_CODES)[keyof typeof PLAN_PROBLEM_CODES];

export interface PlanProblem {
  readonly code: PlanProblemCode;
  /** Names the field (`actions[0].memory`) and what is wrong. */
  readonly message: string;
}

export interface GuardContext {
  /** The bounds the gateway enforces (the worker passes the same object). */
  readonly bounds: GatewayBounds;
  /** When given: its target may name a Pod's owner, and its live state checks containers and memory limits. */
  readonly diagnosis?: Diagnosis;
}

function bytes(quantity: string): number | undefined {
  try {
    const value = parseQuantity(quantity);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function boundsProblems(action: Action, field: string, context: GuardContext): string[] {
  const { bounds, diagnosis } = context;
  if (action.type === 'scale' && (action.replicas < bounds.minReplicas || action.replicas > bounds.maxReplicas)) {
    return [`${field}.replicas: ${action.replicas} is outside [${bounds.minReplicas}, ${bounds.maxReplicas}]`];
  }
  if (action.type !== 'raise-memory-limit') return [];
  const memory = bytes(action.memory);
  const max = bytes(bounds.maxMemory);
  if (memory === undefined) return [`${field}.memory: ${action.memory} is not a quantity`];
  if (max === undefined || memory > max) return [`${field}.memory: ${action.memory} is above the maximum of ${bounds.maxMemory}`];
  const live = diagnosis !== undefined && sameObject(diagnosis.target, actionTarget(action)) ? diagnosis.live : undefined;
  if (live === undefined) return [];
  const container = live.containers.find((c) => c.name === action.container);
  if (container === undefined) return [`${field}.container: ${action.container} is not a container of ${describeTarget(actionTarget(action))}`];
  const current = container.memoryLimit === undefined ? undefined : bytes(container.memoryLimit);
  if (current === undefined) return [`${field}.memory: container ${action.container} has no readable memory limit to raise`];
  if (!(memory > current)) return [`${field}.memory: ${action.memory} is not above the current limit ${container.memoryLimit ?? ''}`];
  return [];
}

function verificationProblems(plan: RemediationPlan, targets: readonly TargetRef[]): string[] {
  const problems: string[] = [];
  for (const [i, check] of (plan.verification?.checks ?? []).entries()) {
    const field = `verification.checks[${i}]`;
    if (check.type === 'rollout') {
      if (!targets.some(isWorkload)) problems.push(`${field}: a rollout check needs a Deployment or StatefulSet among the plan's targets`);
      continue;
    }
    const rendered = targets.flatMap((t) => {
      try {
        return [renderPromql(check.template, t)];
      } catch {
        return [];
      }
    });
    if (rendered.length === 0) problems.push(`${field}: template ${check.template} does not apply to any of the plan's targets`);
    else if (!rendered.includes(check.query)) problems.push(`${field}.query: is not what template ${check.template} renders for the plan's targets`);
  }
  return problems;
}

/**
 * Checks a proposed plan (of unknown shape) against its incident: a valid RemediationPlan of this incident; every
 * action of the catalogue writing the incident's own object or its owner (a Pod's Deployment/StatefulSet, named by
 * the diagnosis or the root cause); parameters within `context.bounds` and above the live limit; risk no lower than
 * the actions' floor ({@link ACTION_RISK}); verification checks that measure the plan's targets with queries as the
 * safe builder renders them. Returns every problem found (empty: none).
 */
export function checkPlanAgainstIncident(plan: unknown, incident: Incident, context: GuardContext): PlanProblem[] {
  const parsed = RemediationPlan.validate(plan);
  if (!parsed.ok) return parsed.error.issues.map((i) => ({ code: PLAN_PROBLEM_CODES.invalid, message: `${i.field}: ${i.problem}` }));
  const p = parsed.value;
  const problems: PlanProblem[] = [];
  const add = (code: PlanProblemCode, messages: readonly string[]): void => {
    for (const message of messages) problems.push({ code, message });
  };
  if (p.incidentId !== incident.id) add(PLAN_PROBLEM_CODES.otherIncident, [`incidentId: ${p.incidentId} is not the incident ${incident.id}`]);
  const allowed = allowedTargets(incident, context.diagnosis);
  const targets = p.actions.map(actionTarget);
  for (const [i, action] of p.actions.entries()) {
    const field = `actions[${i}]`;
    const target = actionTarget(action);
    if (!allowed.some((a) => sameObject(a, target))) {
      add(PLAN_PROBLEM_CODES.targetNotAllowed, [
        `${field}: ${action.type} writes ${describeTarget(target)}, which is not the incident's object or its owner (${allowed.map(describeTarget).join(', ')})`,
      ]);
    }
    add(PLAN_PROBLEM_CODES.outOfBounds, boundsProblems(action, field, context));
  }
  const floor = maxRisk(p.actions.map(riskOf));
  if (riskRank(p.risk) < riskRank(floor)) add(PLAN_PROBLEM_CODES.riskUnderstated, [`risk: ${p.risk} is below ${floor}, the least its actions carry`]);
  if (p.actions.length > 0) add(PLAN_PROBLEM_CODES.verificationMismatch, verificationProblems(p, targets));
  return problems;
}
