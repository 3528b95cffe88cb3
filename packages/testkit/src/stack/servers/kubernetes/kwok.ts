import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_HOST } from '@cortexops/config';
import { stackPorts } from '../../context.js';
import { installOnce } from '../../install.js';
import { httpOk } from '../../probes.js';
import type { ServerDefinition, StackContext } from '../../types.js';
import { VERSIONS } from '../../versions.js';
import { goInstall, goModuleDir } from './build.js';
import { createIfMissing, kubectl, waitFor } from './kubectl.js';
import {
  DEMO_DEPLOYMENT,
  DEMO_NAMESPACE,
  DEMO_REPLICAS,
  KWOK_NODE_ANNOTATION,
  KWOK_NODE_COUNT,
  KWOK_VERSION,
  kubeconfigPaths,
  kwokToolsDir,
} from './paths.js';

const NODES_READY_TIMEOUT_MS = 30_000;
/** Seconds a simulated node's lease lasts; kwok renews it (the heartbeat-with-lease stage). */
const NODE_LEASE_SECONDS = 40;

/**
 * kwok's stock stages, as kwokctl uses them: nodes initialise and keep a lease; pods become Ready,
 * complete when their containers would, and go away when deleted. The standalone kwok command has
 * no built-in stages, so they are copied from its module into the install.
 */
const STAGES = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-complete.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml',
];
const stagesFile = (ctx: StackContext) => join(kwokToolsDir(ctx), 'stages.yaml');
const url = (ctx: StackContext) => `http://${LOCAL_HOST}:${stackPorts(ctx).kwokPort}`;
export const kwokNodeName = (index: number) => `kwok-node-${index}`;

/** A Node kwok simulates (its annotation), with a capacity of 16 CPUs and 64 GiB. */
export function kwokNode(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
    },
    // Capacity is whatever we say: kwok keeps what the node was created with.
    status: {
      allocatable: { cpu: '16', memory: '64Gi', pods: '110' },
      capacity: { cpu: '16', memory: '64Gi', pods: '110' },
    },
  };
}

/** The demo workload remediations act on: 3 replicas of an image kwok never pulls. */
export function demoDeployment() {
  const labels = { app: DEMO_DEPLOYMENT };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: DEMO_DEPLOYMENT, namespace: DEMO_NAMESPACE, labels },
    spec: {
      replicas: DEMO_REPLICAS,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: DEMO_DEPLOYMENT,
              image: 'registry.cortexops.local/demo/checkout:1.0.0',
              ports: [{ containerPort: 8080, name: 'http' }],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
            },
          ],
        },
      },
    },
  };
}

async function ensureNodesAndDemo(ctx: StackContext): Promise<void> {
  for (let i = 0; i < KWOK_NODE_COUNT; i++) await createIfMissing(ctx, kwokNode(kwokNodeName(i)));
  await createIfMissing(ctx, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEMO_NAMESPACE } });
  await createIfMissing(ctx, demoDeployment());
  await waitFor(`${KWOK_NODE_COUNT} Ready kwok nodes`, NODES_READY_TIMEOUT_MS, async () => {
    const out = await kubectl(ctx, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
    return out.split('\n').filter((s) => s === 'True').length >= KWOK_NODE_COUNT ? true : undefined;
  });
}

/** kwok: simulates the nodes annotated `kwok.x-k8s.io/node=fake` and the pods scheduled onto them. */
export const kwok: ServerDefinition = {
  name: 'kwok',
  description: `kwok ${KWOK_VERSION} (${KWOK_NODE_COUNT} simulated nodes)`,
  group: 'stack',
  dependsOn: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
  ports: (ctx) => [{ variable: 'CORTEXOPS_KWOK_PORT', port: stackPorts(ctx).kwokPort }],
  install: async (ctx) => {
    await installOnce(ctx, 'kwok', KWOK_VERSION, async (dir) => {
      await goInstall(dir, `${VERSIONS.kwok.module}/cmd/kwok`, KWOK_VERSION);
      const source = await goModuleDir(VERSIONS.kwok.module, KWOK_VERSION);
      const stages = STAGES.map((file) => readFileSync(join(source, file), 'utf8').trim());
      writeFileSync(join(dir, 'stages.yaml'), `${stages.join('\n---\n')}\n`);
    });
  },
  command: (ctx) => ({
    command: join(kwokToolsDir(ctx), 'bin', 'kwok'),
    args: [
      `--kubeconfig=${kubeconfigPaths(ctx).admin}`,
      `--config=${stagesFile(ctx)}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
      `--server-address=${LOCAL_HOST}:${stackPorts(ctx).kwokPort}`,
      `--node-lease-duration-seconds=${NODE_LEASE_SECONDS}`,
    ],
  }),
  probe: (ctx) => httpOk(`${url(ctx)}/healthz`),
  afterStart: ensureNodesAndDemo,
  endpoints: (ctx) => ({ health: `${url(ctx)}/healthz`, metrics: `${url(ctx)}/metrics` }),
};
