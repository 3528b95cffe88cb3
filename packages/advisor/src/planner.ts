import { defineContract, diagnosisSchema, Incident, RemediationPlan, type Diagnosis } from '@cortexops/contracts';
import { renderPromql } from '@cortexops/prometheus';
import { factsOf } from './facts.js';
import { riskOf } from './risk.js';
import { buildAction, firstMatch } from './rules.js';
import { describeTarget } from './targets.js';
import { verificationFor, type VerificationTiming } from './verification.js';

/** What the planner needs from the worker's configuration. */
export interface PlannerSettings {
  /** Highest memory limit `raise-memory-limit` proposes (a Kubernetes quantity; the gateway's and the policy's bound). */
  readonly maxMemory: string;
  /** Timing of the verification of a plan with an action. */
  readonly verification: VerificationTiming;
}

export interface PlannerInput {
  readonly incident: Incident;
  readonly diagnosis: Diagnosis;
  /** The workflow's clock: the plan's `createdAt`. */
  readonly now: string;
  readonly settings: PlannerSettings;
}

const DiagnosisContract = defineContract('Diagnosis', diagnosisSchema);
const MAX_RATIONALE = 4000;

function sentence(parts: readonly string[]): string {
  return parts.length === 0 ? '' : ` Facts: ${parts.join('; ')}.`;
}

function bounded(text: string): string {
  return text.length <= MAX_RATIONALE ? text : `${text.slice(0, MAX_RATIONALE - 1)}…`;
}

/**
 * The deterministic heuristic planner: a pure function from an incident and its diagnosis to a plan with at most one
 * action of the catalogue, chosen by the first rule of the table ({@link RULES}) whose conditions hold. "No safe
 * action" is a plan too (no actions, a rationale saying why and what a person should look at). The action writes
 * only the incident's own object or its named owner; its parameters are within the settings' bounds; it carries the
 * verification of its profile. Input and output are validated with the contracts schemas (throws
 * `ContractValidationError`, e.g. for a name that is not DNS-1123, or verification settings out of range).
 */
export function planRemediation(input: PlannerInput): RemediationPlan {
  const incident = Incident.parse(input.incident);
  const diagnosis = DiagnosisContract.parse(input.diagnosis);
  const facts = factsOf(incident, diagnosis);
  const { rule, matched } = firstMatch(facts);
  const base = { incidentId: incident.id, source: 'heuristic' as const, rule: rule.id, createdAt: input.now };
  const noAction = (why: readonly string[], advice: string): RemediationPlan =>
    RemediationPlan.parse({ ...base, actions: [], risk: 'low', rationale: bounded(`No safe action (rule ${rule.id}): ${rule.says}.${sentence(why)} ${advice}`) });

  if (rule.then.kind === 'none' || !facts.target.ok) return noAction(matched, rule.then.kind === 'none' ? rule.then.advice : rule.then.adviceIfUnsafe);
  const target = facts.target.target;
  const proposal = buildAction(rule.then.action, facts, target, input.settings);
  if (!proposal.ok) return noAction([...matched, proposal.why], rule.then.adviceIfUnsafe);
  const risk = riskOf(proposal.action);
  return RemediationPlan.parse({
    ...base,
    actions: [proposal.action],
    risk,
    rationale: bounded(`${rule.says} (rule ${rule.id}, risk ${risk}) on ${describeTarget(target)}, ${facts.target.how}.${sentence([...matched, ...proposal.notes])}`),
    verification: verificationFor(rule.then.verification, target, input.settings.verification, renderPromql),
  });
}
