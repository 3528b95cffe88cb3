import type { PromqlTemplate, TargetRef, VerificationCheck, VerificationSpec } from '@cortexops/contracts';

/** Renders a safe PromQL template for a target (`renderPromql` of `@cortexops/prometheus`). */
export type PromqlRenderer = (template: PromqlTemplate, target: TargetRef) => string;

/** The timing of a verification run; the worker fills it from its configuration. */
export interface VerificationTiming {
  readonly stabilisationMs: number;
  readonly intervalMs: number;
  readonly count: number;
  readonly minSamples: number;
  readonly failureLimit?: number;
  readonly inconclusiveLimit?: number;
}

type CheckTemplate =
  | { readonly type: 'rollout'; readonly name: string }
  | { readonly type: 'promql'; readonly name: string; readonly template: PromqlTemplate; readonly op: '<' | '<=' | '>' | '>=' | '=='; readonly threshold: number };

/**
 * What "it worked" means after each kind of change. A workload: its rollout finished, every desired replica is
 * available, and no container restarted in the restarts window (`increase()` extrapolates, so `< 1`, not `== 0`).
 * A node: it reports Ready again — a cordon does not make a node Ready, so a node that stays NotReady fails its
 * verification and the cordon is compensated; a person then takes over (there is no "node is cordoned" template).
 */
export const VERIFICATION_PROFILES = {
  workload: [
    { type: 'rollout', name: 'rollout-complete' },
    { type: 'promql', name: 'available-ratio', template: 'workload-available-ratio', op: '>=', threshold: 1 },
    { type: 'promql', name: 'container-restarts', template: 'workload-container-restarts', op: '<', threshold: 1 },
  ],
  node: [{ type: 'promql', name: 'node-ready', template: 'node-ready', op: '>=', threshold: 1 }],
} as const satisfies Record<string, readonly CheckTemplate[]>;
export type VerificationProfile = keyof typeof VERIFICATION_PROFILES;

/** The verification of a change to `target`: the profile's checks, queries rendered for the target, the given timing. */
export function verificationFor(profile: VerificationProfile, target: TargetRef, timing: VerificationTiming, render: PromqlRenderer): VerificationSpec {
  const templates: readonly CheckTemplate[] = VERIFICATION_PROFILES[profile];
  const checks = templates.map(
    (c): VerificationCheck =>
      c.type === 'rollout'
        ? { type: 'rollout', name: c.name }
        : { type: 'promql', name: c.name, template: c.template, query: render(c.template, target), successCondition: { op: c.op, threshold: c.threshold } },
  );
  return {
    checks,
    stabilisationMs: timing.stabilisationMs,
    intervalMs: timing.intervalMs,
    count: timing.count,
    failureLimit: timing.failureLimit ?? 0,
    inconclusiveLimit: timing.inconclusiveLimit ?? 0,
    minSamples: timing.minSamples,
  };
}
