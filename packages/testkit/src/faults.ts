import { kubectl } from './stack/servers/kubernetes/kubectl.js';
import { KWOK_NODE_ANNOTATION } from './stack/servers/kubernetes/paths.js';
import type { StackContext } from './stack/types.js';

/**
 * Failures made in the local cluster the way the kubelet would report them, so kube-state-metrics (and everything
 * that reads the API) sees real objects in a failed state. Nothing here emits Kubernetes events: a test's fault does
 * not reach the shared stack's ingestion, which watches every namespace's Warning events.
 */

/**
 * Node `name` goes NotReady (`Ready=False`, reason `KubeletNotReady`), as when its kubelet reports its runtime
 * down. kwok keeps its nodes Ready (it would set the condition back at once), so the node leaves kwok's management
 * first. The node controller then taints it `node.kubernetes.io/not-ready`; its pods keep running (their eviction
 * waits 5 minutes).
 */
export async function makeNodeNotReady(ctx: StackContext, name: string): Promise<void> {
  await kubectl(ctx, ['annotate', 'node', name, `${KWOK_NODE_ANNOTATION}-`]);
  const ready = { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() };
  await kubectl(ctx, ['patch', 'node', name, '--subresource=status', '--type=strategic', '-p', JSON.stringify({ status: { conditions: [ready] } })]);
}

/** Node `name` is kwok's again, which reports it Ready (and the node controller lifts its not-ready taints). */
export async function makeNodeReady(ctx: StackContext, name: string): Promise<void> {
  await kubectl(ctx, ['annotate', 'node', name, '--overwrite', `${KWOK_NODE_ANNOTATION}=fake`]);
  await kubectl(ctx, ['wait', '--for=condition=Ready', `node/${name}`, '--timeout=60s']);
}

/**
 * A Running pod's container crash loops: waiting in `CrashLoopBackOff` after restarts, the pod not Ready — the
 * status the kubelet writes. kwok leaves a Running pod's status alone, so it stays until the pod goes.
 */
export async function makePodCrashLoop(ctx: StackContext, namespace: string, pod: string, container: string, restarts = 5): Promise<void> {
  const spec = JSON.parse(await kubectl(ctx, ['get', 'pod', pod, '-n', namespace, '-o', 'json'])) as { spec: { containers: { name: string; image: string }[] } };
  const image = spec.spec.containers.find((c) => c.name === container)?.image;
  if (image === undefined) throw new Error(`pod ${namespace}/${pod} has no container ${container}`);
  const now = new Date().toISOString();
  const status = {
    conditions: [
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${container}]`, lastTransitionTime: now },
      { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${container}]`, lastTransitionTime: now },
    ],
    containerStatuses: [
      {
        name: container,
        image,
        imageID: '',
        ready: false,
        started: false,
        restartCount: restarts,
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 2m40s restarting failed container=${container} pod=${pod}` } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now } },
      },
    ],
  };
  await kubectl(ctx, ['patch', 'pod', pod, '-n', namespace, '--subresource=status', '--type=strategic', '-p', JSON.stringify({ status })]);
}

interface PodStatusJson {
  readonly status: { containerStatuses?: Record<string, unknown>[] };
}

/**
 * A Running pod's readiness, as the kubelet reports a readiness probe failing (`ready=false`: its containers run
 * but are not Ready) and passing again. kwok leaves a Running pod's status alone.
 */
export async function setPodReady(ctx: StackContext, namespace: string, pod: string, ready: boolean): Promise<void> {
  const current = JSON.parse(await kubectl(ctx, ['get', 'pod', pod, '-n', namespace, '-o', 'json'])) as PodStatusJson;
  const now = new Date().toISOString();
  const reason = ready ? undefined : 'ContainersNotReady';
  const status = {
    conditions: ['Ready', 'ContainersReady'].map((type) => ({ type, status: ready ? 'True' : 'False', reason: reason ?? null, lastTransitionTime: now })),
    containerStatuses: (current.status.containerStatuses ?? []).map((c) => ({ ...c, ready })),
  };
  await kubectl(ctx, ['patch', 'pod', pod, '-n', namespace, '--subresource=status', '--type=strategic', '-p', JSON.stringify({ status })]);
}
