import { isDeepStrictEqual } from 'node:util';
import { ANNOTATIONS, type Action, type TargetRef } from '@cortexops/contracts';
import type { Logger } from '@cortexops/observability';
import { KubeConfig } from '@kubernetes/client-node';
import {
  checkMemoryCeiling,
  checkReplicas,
  cordonOps,
  currentStateLike,
  DEFAULT_BOUNDS,
  fieldHash,
  holdsPriorState,
  priorStateOf,
  raiseMemoryOps,
  removeAnnotationOps,
  resourceVersionGuard,
  restartOps,
  restoreOps,
  rollbackOps,
  scaleOps,
  setAnnotationOps,
  type GatewayBounds,
} from './changes.js';
import { objectDiff } from './diff.js';
import {
  AlreadyRevertedError,
  InvalidGatewayInputError,
  KubernetesNotFoundError,
  ReceiptMismatchError,
  RemediationIdReusedError,
  RevertVerificationError,
  SupersededRemediationError,
  TargetChangedError,
  TargetReplacedError,
  UnsupportedTargetError,
} from './errors.js';
import { inspectTarget, type Inspection } from './inspect.js';
import { controllerOf, previousReplicaSet, replacementState } from './lookups.js';
import { parseQuantity } from './quantity.js';
import { appliedIds, GATEWAY_ANNOTATIONS, newerThan, withAppliedId, type PriorState, type Receipt, type Target } from './receipt.js';
import { ClusterResources, type JsonPatchOp, type KubeObject, type ObjectRef, type PatchableKind, type ReadableRef, type RequestObserver } from './resources.js';
import { withRetry, type RetryOptions } from './retry.js';
import { describeObject, rolloutDecision, type RolloutExpectation, type RolloutStatus } from './status.js';
import { storedReceipt, validAction, validReceipt, validRemediationId, validTarget } from './validate.js';

export interface GatewayOptions {
  /** Where the credentials come from: a KubeConfig, a kubeconfig file, or (neither) the default chain of `KubeConfig.loadFromDefault`. */
  readonly kubeConfig?: KubeConfig;
  readonly kubeconfigPath?: string;
  /** Calls made through these resources instead (tests that interfere with a read). */
  readonly resources?: ClusterResources;
  readonly bounds?: Partial<GatewayBounds>;
  readonly retry?: RetryOptions;
  /** How long `revert` of delete-pod waits for the controller to run its replicas again (default 60 s). */
  readonly replacementTimeoutMs?: number;
  readonly onRequest?: RequestObserver;
  readonly logger?: Logger;
}

export interface DryRunResult {
  readonly action: Action;
  /** `Deployment shop/web`, `Node kwok-node-1`, ... */
  readonly target: string;
  /** uid of the object the action writes (for delete-pod, the pod): what an approval binds to. */
  readonly targetUid: string;
  /** A unified diff of the live object and the API server's dry-run answer (YAML, status and bookkeeping left out); empty when nothing would change. */
  readonly diff: string;
  readonly changed: boolean;
}

export interface RevertResult {
  readonly remediationId: string;
  /** `not-applicable`: a deleted pod is not restored; its controller's replacement was checked instead. */
  readonly outcome: 'reverted' | 'already-reverted' | 'not-applicable';
  /** The check afterwards passed (it throws {@link RevertVerificationError} otherwise). */
  readonly verified: true;
  readonly detail: string;
}

type PatchAction = Exclude<Action, { type: 'delete-pod' }>;
type DeletePodAction = Extract<Action, { type: 'delete-pod' }>;

const describe = describeObject;

/** The object a target names, for reading; undefined for a Service (no rollout, no pods of its own). */
function readableRef(target: TargetRef): ReadableRef | undefined {
  const { kind, namespace, name } = validTarget(target);
  if (kind === 'Service') return undefined;
  return { kind, ...(namespace === undefined ? {} : { namespace }), name };
}

function refOf(action: PatchAction): ObjectRef {
  return action.kind === 'Node' ? { kind: 'Node', name: action.name } : { kind: action.kind, namespace: action.namespace, name: action.name };
}

function targetOf(obj: KubeObject, ref: ObjectRef): Target {
  return {
    apiVersion: ref.kind === 'Node' ? 'v1' : 'apps/v1',
    kind: ref.kind,
    ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
    name: ref.name,
    uid: obj.metadata?.uid ?? '',
  };
}

type ChangedField = Exclude<PriorState['field'], 'pod'>;

function priorFieldOf(action: PatchAction): ChangedField {
  switch (action.type) {
    case 'scale':
      return 'spec.replicas';
    case 'cordon-node':
    case 'uncordon-node':
      return 'spec.unschedulable';
    default:
      return 'spec.template';
  }
}

/**
 * The cluster gateway: each action of the catalogue as a server-side dry run, an idempotent apply
 * keyed by the `cortexops.io/remediation-id` annotation, and a verified revert from the receipt.
 *
 * Every write is a JSON Patch that carries the resourceVersion read (optimistic concurrency) and, in
 * the same request, the remediation id and the receipt as annotations on the changed object — so
 * the change and the record of it land together or not at all.
 */
export class ClusterGateway {
  private constructor(
    private readonly resources: ClusterResources,
    private readonly bounds: GatewayBounds,
    private readonly options: GatewayOptions,
  ) {}

  static create(options: GatewayOptions = {}): ClusterGateway {
    const bounds = { ...DEFAULT_BOUNDS, ...options.bounds };
    if (!(bounds.minReplicas >= 0 && bounds.minReplicas <= bounds.maxReplicas)) {
      throw new InvalidGatewayInputError('gateway options', [{ field: 'bounds', problem: `replica bounds [${bounds.minReplicas}, ${bounds.maxReplicas}] are not a range` }]);
    }
    try {
      parseQuantity(bounds.maxMemory);
    } catch {
      throw new InvalidGatewayInputError('gateway options', [{ field: 'bounds.maxMemory', problem: `"${bounds.maxMemory}" is not a Kubernetes quantity` }]);
    }
    return new ClusterGateway(options.resources ?? new ClusterResources(loadKubeConfig(options), options.onRequest), bounds, options);
  }

  /** Server-side dry run (`dryRun=All`) of `action`: what the API server would make of it, as a diff. Nothing is persisted. */
  async dryRun(input: unknown, remediationId: string): Promise<DryRunResult> {
    const action = validAction(input);
    const id = validRemediationId(remediationId);
    this.checkBounds(action);
    return withRetry(async () => {
      if (action.type === 'delete-pod') {
        const pod = await this.resources.readPod(action.namespace, action.name);
        await controllerOf(this.resources, pod);
        const label = describe(action);
        await this.resources.deletePod(action.namespace, action.name, pod.metadata?.uid ?? '', true);
        const { text, changed } = objectDiff(label, pod, undefined);
        return { action, target: label, targetUid: pod.metadata?.uid ?? '', diff: text, changed };
      }
      const ref = refOf(action);
      const live = await this.resources.read(ref);
      const { after } = await this.change(action, ref, live, id);
      const { text, changed } = objectDiff(describe(ref), live, after);
      return { action, target: describe(ref), targetUid: live.metadata?.uid ?? '', diff: text, changed };
    }, this.options.retry);
  }

  /**
   * Applies `action` once per `remediationId`: when the object already carries that id, nothing is
   * written and the receipt stored with it is returned. A Conflict (the object changed since it was
   * read) is retried with a fresh read, a bounded number of times.
   */
  async apply(input: unknown, remediationId: string): Promise<Receipt> {
    const action = validAction(input);
    const id = validRemediationId(remediationId);
    this.checkBounds(action);
    const receipt = await withRetry(() => (action.type === 'delete-pod' ? this.applyDeletePod(action, id) : this.applyPatch(action, id)), this.options.retry);
    this.options.logger?.info({ remediationId: id, action: action.type, target: describe(receipt.target) }, 'action applied');
    return receipt;
  }

  /** Puts the receipt's object back to its prior spec and checks it; for delete-pod, checks the controller replaced the pod. */
  async revert(input: unknown): Promise<RevertResult> {
    const receipt = validReceipt(input);
    const prior = receipt.priorSpec;
    if (prior.field === 'pod') return this.checkReplacement(receipt, prior);
    const ref: ObjectRef = { kind: receipt.target.kind, ...(receipt.target.namespace === undefined ? {} : { namespace: receipt.target.namespace }), name: receipt.target.name };
    const label = describe(ref);
    const id = receipt.remediationId;
    const outcome = await withRetry(async () => {
      const live = await this.resources.read(ref);
      if (live.metadata?.uid !== receipt.target.uid) throw new TargetReplacedError(label, receipt.target.uid, live.metadata?.uid);
      const annotations = live.metadata.annotations;
      if (annotations?.[GATEWAY_ANNOTATIONS.revertedId] === id && holdsPriorState(prior, live)) return 'already-reverted' as const;
      this.checkUnchangedSinceApply(receipt, prior, live, label);
      const ours = annotations?.[ANNOTATIONS.remediationId] === id ? [ANNOTATIONS.remediationId, GATEWAY_ANNOTATIONS.receipt] : [];
      const ops: JsonPatchOp[] = [
        resourceVersionGuard(live),
        ...restoreOps(prior),
        ...removeAnnotationOps('/metadata', annotations, ours),
        ...setAnnotationOps('/metadata', annotations, { [GATEWAY_ANNOTATIONS.revertedId]: id }),
      ];
      await this.resources.patch(ref, ops, false);
      return 'reverted' as const;
    }, this.options.retry);
    const after = await this.resources.read(ref);
    if (!holdsPriorState(prior, after)) {
      throw new RevertVerificationError(id, label, objectDiff(`${label} ${prior.field}`, prior, currentStateLike(prior, after), { names: { before: 'prior', after: 'after the revert' } }).text);
    }
    this.options.logger?.info({ remediationId: id, action: receipt.action.type, target: label, outcome }, 'action reverted');
    return { remediationId: id, outcome, verified: true, detail: `${label}: ${prior.field} is back at its value before ${id}` };
  }

  /**
   * What DIAGNOSING reads of a target (contracts `Diagnosis`: live, pods, events, problems): the object,
   * the pods it runs (at most 50, not ready first), the newest Warning events about them (at most 20).
   * Read problems (missing object, RBAC, network) are listed in `problems`; only bad input throws.
   */
  async inspect(target: TargetRef): Promise<Inspection> {
    const ref = readableRef(target);
    if (ref === undefined) return { pods: [], events: [], problems: [`${describe(target)}: Service targets are not inspected; inspect the workload behind it`] };
    return inspectTarget(this.resources, ref, this.options.retry);
  }

  /**
   * Whether the target's rollout is complete (VERIFYING): see {@link rolloutDecision}. `expect.unschedulable`
   * makes a node's cordon state part of it. A failed read throws the classified error (a missing target is
   * `KubernetesNotFoundError`); a Service is `UnsupportedTargetError`.
   */
  async rolloutStatus(target: TargetRef, expect: RolloutExpectation = {}): Promise<RolloutStatus> {
    const ref = readableRef(target);
    if (ref === undefined) throw new UnsupportedTargetError(`${describe(target)} has no rollout; check the workload behind it`);
    const obj = await withRetry(() => this.resources.read(ref), this.options.retry);
    return rolloutDecision(ref.kind, obj, expect);
  }

  /** Bounds that need no read: a request outside them never reaches the cluster. */
  private checkBounds(action: Action): void {
    if (action.type === 'scale') checkReplicas(action.replicas, this.bounds);
    if (action.type === 'raise-memory-limit') checkMemoryCeiling(action.memory, this.bounds);
  }

  /**
   * Rule 8 of DESIGN.md: revert only what CortexOps changed. The live field must still be what the apply
   * left (its hash in the receipt), or already hold the prior value (then the write changes no field).
   */
  private checkUnchangedSinceApply(receipt: Receipt, prior: Exclude<PriorState, { field: 'pod' }>, live: KubeObject, label: string): void {
    if (holdsPriorState(prior, live) || fieldHash(prior.field, live) === receipt.applied?.sha256) return;
    const diff = objectDiff(`${label} ${prior.field}`, prior, currentStateLike(prior, live), { context: 2, maxLines: 40, names: { before: 'before the apply', after: 'live' } });
    throw new TargetChangedError(receipt.remediationId, label, prior.field, diff.text);
  }

  /**
   * The receipt `obj` holds for `id`, if this id was applied to it. Refused: a stored receipt that is not
   * this object's (planted), an id used for another action, an id that was reverted, and an older id
   * after a newer one (applying it again would undo the newer change).
   */
  private existing(obj: KubeObject, ref: ObjectRef, action: Action, id: string): Receipt | undefined {
    const label = describe(ref);
    const annotations = obj.metadata?.annotations;
    if (annotations?.[ANNOTATIONS.remediationId] === id) {
      const receipt = storedReceipt(annotations[GATEWAY_ANNOTATIONS.receipt]);
      if (receipt === undefined) throw new ReceiptMismatchError(id, label, 'it is missing or not a valid receipt');
      const target = targetOf(obj, ref);
      if (!isDeepStrictEqual(receipt.target, target)) {
        throw new ReceiptMismatchError(id, label, `it names ${describe(receipt.target)} uid ${receipt.target.uid}, but the object is ${describe(target)} uid ${target.uid}`);
      }
      if (receipt.remediationId !== id) throw new ReceiptMismatchError(id, label, `it is the receipt of ${receipt.remediationId}`);
      if (!isDeepStrictEqual(receipt.action, action)) throw new RemediationIdReusedError(id, label);
      return receipt;
    }
    if (annotations?.[GATEWAY_ANNOTATIONS.revertedId] === id) throw new AlreadyRevertedError(id, label);
    const newer = newerThan(annotations?.[GATEWAY_ANNOTATIONS.history], id);
    if (newer !== undefined) throw new SupersededRemediationError(id, label, newer);
    return undefined;
  }

  /**
   * The whole write for `action` on `live` (guard, the change, the bookkeeping annotations) and its
   * receipt. The change is sent as a server-side dry run first: the receipt records the hash of the field
   * as the API server makes it (defaults, canonical quantities), and goes in the same write as the change.
   */
  private async change(action: PatchAction, ref: ObjectRef, live: KubeObject, id: string): Promise<{ ops: JsonPatchOp[]; receipt: Receipt; after: KubeObject }> {
    const annotations = live.metadata?.annotations;
    const base = [resourceVersionGuard(live), ...(await this.changeOps(action, live, id))];
    const marks = { [ANNOTATIONS.remediationId]: id, [GATEWAY_ANNOTATIONS.history]: withAppliedId(annotations?.[GATEWAY_ANNOTATIONS.history], id) };
    const after = await this.resources.patch(ref, [...base, ...setAnnotationOps('/metadata', annotations, marks)], true);
    const field = priorFieldOf(action);
    const receipt: Receipt = {
      remediationId: id,
      action,
      target: targetOf(live, ref),
      priorResourceVersion: live.metadata?.resourceVersion ?? '',
      priorSpec: priorStateOf(field, live),
      applied: { sha256: fieldHash(field, after) },
      appliedAt: new Date().toISOString(),
    };
    return { ops: [...base, ...setAnnotationOps('/metadata', annotations, { ...marks, [GATEWAY_ANNOTATIONS.receipt]: JSON.stringify(receipt) })], receipt, after };
  }

  private async changeOps(action: PatchAction, live: KubeObject, id: string): Promise<JsonPatchOp[]> {
    switch (action.type) {
      case 'rollout-restart':
        return restartOps(live, ANNOTATIONS.remediationId, id, new Date());
      case 'scale':
        return scaleOps(action.replicas, this.bounds);
      case 'rollback':
        return rollbackOps(await previousReplicaSet(this.resources, live));
      case 'raise-memory-limit':
        return raiseMemoryOps(live, action.container, action.memory, this.bounds);
      case 'cordon-node':
        return cordonOps(true);
      case 'uncordon-node':
        return cordonOps(false);
    }
  }

  private bookkeeping(live: KubeObject, receipt: Receipt): JsonPatchOp[] {
    const annotations = live.metadata?.annotations;
    return setAnnotationOps('/metadata', annotations, {
      [ANNOTATIONS.remediationId]: receipt.remediationId,
      [GATEWAY_ANNOTATIONS.history]: withAppliedId(annotations?.[GATEWAY_ANNOTATIONS.history], receipt.remediationId),
      [GATEWAY_ANNOTATIONS.receipt]: JSON.stringify(receipt),
    });
  }

  private async applyPatch(action: PatchAction, id: string): Promise<Receipt> {
    const ref = refOf(action);
    const live = await this.resources.read(ref);
    const done = this.existing(live, ref, action, id);
    if (done !== undefined) return done;
    const { ops, receipt } = await this.change(action, ref, live, id);
    const written = await this.resources.patch(ref, ops, false);
    if (receipt.priorSpec.field !== 'pod' && fieldHash(receipt.priorSpec.field, written) !== receipt.applied?.sha256) {
      // Only a non-deterministic admission webhook does this; revert will then refuse rather than guess.
      this.options.logger?.warn({ remediationId: id, target: describe(ref) }, 'the applied field differs from its dry run; a revert will be refused as changed by others');
    }
    return receipt;
  }

  /**
   * delete-pod: the receipt goes on the pod's controller (the pod itself is gone afterwards), written
   * before the delete; the delete is conditional on the pod's uid, so a replacement with the same name
   * (StatefulSet) is never deleted by a retry.
   */
  private async applyDeletePod(action: DeletePodAction, id: string): Promise<Receipt> {
    let pod: KubeObject;
    try {
      pod = await this.resources.readPod(action.namespace, action.name);
    } catch (error) {
      if (!(error instanceof KubernetesNotFoundError)) throw error;
      const earlier = await this.findReceipt(action, id);
      if (earlier === undefined) throw error;
      return earlier;
    }
    const controller = await controllerOf(this.resources, pod);
    const ref: ObjectRef = { kind: controller.kind === 'StatefulSet' ? 'StatefulSet' : 'Deployment', namespace: action.namespace, name: controller.metadata?.name ?? '' };
    const uid = pod.metadata?.uid ?? '';
    const done = this.existing(controller, ref, action, id);
    if (done !== undefined) {
      // The receipt was written but the delete may not have happened (a crash between the two).
      if (done.priorSpec.field === 'pod' && done.priorSpec.pod.uid === uid && pod.metadata?.deletionTimestamp === undefined) await this.deletePodOnce(action, uid);
      return done;
    }
    const receipt: Receipt = {
      remediationId: id,
      action,
      target: targetOf(controller, ref),
      priorResourceVersion: controller.metadata?.resourceVersion ?? '',
      priorSpec: { field: 'pod', pod: { name: action.name, uid } },
      appliedAt: new Date().toISOString(),
    };
    await this.resources.patch(ref, [resourceVersionGuard(controller), ...this.bookkeeping(controller, receipt)], false);
    await this.deletePodOnce(action, uid);
    return receipt;
  }

  private async deletePodOnce(action: DeletePodAction, uid: string): Promise<void> {
    try {
      await this.resources.deletePod(action.namespace, action.name, uid, false);
    } catch (error) {
      if (!(error instanceof KubernetesNotFoundError)) throw error;
    }
  }

  /** A delete-pod applied earlier: its pod is gone, so its receipt (or a newer id, or its revert) is found on the namespace's workloads. */
  private async findReceipt(action: DeletePodAction, id: string): Promise<Receipt | undefined> {
    const workloads = await this.resources.listWorkloads(action.namespace);
    const annotationsOf = (w: KubeObject) => w.metadata?.annotations ?? {};
    const holder =
      workloads.find((w) => annotationsOf(w)[ANNOTATIONS.remediationId] === id) ??
      workloads.find((w) => annotationsOf(w)[GATEWAY_ANNOTATIONS.revertedId] === id || appliedIds(annotationsOf(w)[GATEWAY_ANNOTATIONS.history]).includes(id));
    if (holder === undefined) return undefined;
    return this.existing(holder, { kind: holder.kind as PatchableKind, namespace: action.namespace, name: holder.metadata?.name ?? '' }, action, id);
  }

  private async checkReplacement(receipt: Receipt, prior: Extract<PriorState, { field: 'pod' }>): Promise<RevertResult> {
    const { namespace = '', name, kind } = receipt.target;
    const label = describe(receipt.target);
    const deadline = Date.now() + (this.options.replacementTimeoutMs ?? 60_000);
    for (;;) {
      const controller = await withRetry(() => this.resources.read({ kind: kind === 'StatefulSet' ? 'StatefulSet' : 'Deployment', namespace, name }), this.options.retry);
      const state = await withRetry(() => replacementState(this.resources, controller, prior.pod.uid), this.options.retry);
      if (!state.deletedStillThere && state.running >= state.wanted) {
        return {
          remediationId: receipt.remediationId,
          outcome: 'not-applicable',
          verified: true,
          detail: `not applicable — pod ${prior.pod.name} was deleted and ${label} runs ${state.running}/${state.wanted} replicas again`,
        };
      }
      if (Date.now() > deadline) {
        throw new RevertVerificationError(receipt.remediationId, label, `pod ${prior.pod.name} deleted; ${label} runs ${state.running}/${state.wanted} replicas${state.deletedStillThere ? ' and the deleted pod is still there' : ''}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function loadKubeConfig(options: GatewayOptions): KubeConfig {
  if (options.kubeConfig !== undefined) return options.kubeConfig;
  const kc = new KubeConfig();
  if (options.kubeconfigPath === undefined) kc.loadFromDefault();
  else kc.loadFromFile(options.kubeconfigPath);
  return kc;
}
