export { planRemediation, type PlannerInput, type PlannerSettings } from './planner.js';
export { checkPlanAgainstIncident, PLAN_PROBLEM_CODES, type GuardContext, type PlanProblem, type PlanProblemCode } from './guard.js';
export { RULES, CONDITIONS, type Rule, type Outcome, type ConditionName, type HeuristicAction } from './rules.js';
export { ACTION_RISK, riskOf } from './risk.js';
export { raisedMemoryLimit, MEMORY_RAISE_FACTOR, type MemoryRaise } from './memory.js';
export { VERIFICATION_PROFILES, type VerificationProfile, type VerificationTiming } from './verification.js';
export { REASON_SYMPTOMS, ALERT_SUMMARIES, SYMPTOMS, type Symptom } from './vocabulary.js';
export { allowedTargets, resolveActionTarget, type TargetResolution } from './targets.js';
