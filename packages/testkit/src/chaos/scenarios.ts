import type { Scenario } from './runner.js';
import { changeDoesNotStabilise } from './scenarios/no-stabilise.js';
import { llmProviderDown } from './scenarios/llm-down.js';
import { natsKilledDuringStorm } from './scenarios/nats-storm.js';
import { podDeletions } from './scenarios/pod-deletions.js';
import { postgresRestarted } from './scenarios/postgres-restart.js';
import { remediationLoop } from './scenarios/remediation-loop.js';
import { temporalRestarted } from './scenarios/temporal-restart.js';
import { workerKilledInApplying } from './scenarios/worker-killed.js';

/** Every scenario of `make demo-failure`, in the order they run. */
export const CHAOS_SCENARIOS: readonly Scenario[] = [remediationLoop, workerKilledInApplying, changeDoesNotStabilise, podDeletions, postgresRestarted, temporalRestarted, natsKilledDuringStorm, llmProviderDown];

/** The scenarios named in `only` (all when empty); an unknown name is refused, naming the known ones. */
export function selectScenarios(only: readonly string[]): Scenario[] {
  if (only.length === 0) return [...CHAOS_SCENARIOS];
  const known = new Map(CHAOS_SCENARIOS.map((s) => [s.name, s]));
  return only.map((name) => {
    const scenario = known.get(name);
    if (!scenario) throw new Error(`unknown scenario "${name}"; known: ${[...known.keys()].join(', ')}`);
    return scenario;
  });
}
