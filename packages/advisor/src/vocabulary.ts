/**
 * The words the heuristics understand: Kubernetes Warning event reasons, container termination reasons and
 * Alertmanager alert names (kubernetes-mixin and common variants), each mapped to the symptom it reports.
 * Data only; the rules (rules.ts) decide what a symptom leads to.
 */

export const SYMPTOMS = ['oom', 'crash-loop', 'rollout-stuck', 'node-not-ready', 'unschedulable', 'image-pull', 'probe-failing'] as const;
export type Symptom = (typeof SYMPTOMS)[number];

/** A Map, not an object literal: a reason such as `constructor` or `__proto__` must find nothing. */
export const REASON_SYMPTOMS: ReadonlyMap<string, Symptom> = new Map<string, Symptom>([
  // Containers killed at their memory limit: the kubelet's event, the kernel monitor's event, alert names.
  ['OOMKilled', 'oom'],
  ['OOMKilling', 'oom'],
  ['KubeContainerOOMKilled', 'oom'],
  ['KubePodOOMKilled', 'oom'],
  ['ContainerOOMKilled', 'oom'],
  ['KubernetesContainerOomKiller', 'oom'],
  // Containers restarting over and over. `BackOff` is also the image pull back-off: the rules ask for restarts too.
  ['CrashLoopBackOff', 'crash-loop'],
  ['BackOff', 'crash-loop'],
  ['KubePodCrashLooping', 'crash-loop'],
  ['KubernetesPodCrashLooping', 'crash-loop'],
  // Rollouts that do not finish.
  ['ProgressDeadlineExceeded', 'rollout-stuck'],
  ['KubeDeploymentRolloutStuck', 'rollout-stuck'],
  ['KubeDeploymentReplicasMismatch', 'rollout-stuck'],
  ['KubeDeploymentGenerationMismatch', 'rollout-stuck'],
  ['KubeStatefulSetUpdateNotRolledOut', 'rollout-stuck'],
  ['KubeStatefulSetReplicasMismatch', 'rollout-stuck'],
  // Nodes.
  ['NodeNotReady', 'node-not-ready'],
  ['KubeNodeNotReady', 'node-not-ready'],
  ['KubeNodeUnreachable', 'node-not-ready'],
  ['KubernetesNodeNotReady', 'node-not-ready'],
  // Pods nobody can place.
  ['FailedScheduling', 'unschedulable'],
  ['KubePodNotScheduled', 'unschedulable'],
  ['NotTriggerScaleUp', 'unschedulable'],
  // Images that cannot be pulled.
  ['ErrImagePull', 'image-pull'],
  ['ImagePullBackOff', 'image-pull'],
  ['InvalidImageName', 'image-pull'],
  // Probes failing.
  ['Unhealthy', 'probe-failing'],
]);

/**
 * kubernetes-mixin summaries, which Alertmanager signals carry as their title instead of the alert name
 * (ingestion: `annotations.summary ?? alertname`). Matched exactly, after trimming.
 */
export const ALERT_SUMMARIES: ReadonlyMap<string, string> = new Map([
  ['Pod is crash looping.', 'KubePodCrashLooping'],
  ['Node is not ready.', 'KubeNodeNotReady'],
  ['Deployment rollout is not progressing.', 'KubeDeploymentRolloutStuck'],
  ['Deployment has not matched the expected number of replicas.', 'KubeDeploymentReplicasMismatch'],
]);

/** Event reasons of pods that fail after a new template (what a stuck rollout's new ReplicaSet shows). */
export const FAILING_POD_REASONS: ReadonlySet<string> = new Set([
  'BackOff',
  'CrashLoopBackOff',
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'Failed',
  'Unhealthy',
  'OOMKilled',
  'OOMKilling',
  'ProgressDeadlineExceeded',
]);

/** A reason as Kubernetes and Alertmanager write them; anything else is never repeated in a rationale. */
export const REASON_WORD = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
