import { LOCAL_HOST } from '@cortexops/config';
import { stackPorts } from '../../context.js';
import type { ServerDefinition, StackContext } from '../../types.js';
import { httpsOk } from './kubectl.js';
import { installKubernetes } from './kube-apiserver.js';
import { componentArgs, KUBERNETES_VERSION, kubeconfigPaths, kubernetesBinary } from './paths.js';

const url = (ctx: StackContext) => `https://${LOCAL_HOST}:${stackPorts(ctx).kubeSchedulerPort}`;

export const kubeScheduler: ServerDefinition = {
  name: 'kube-scheduler',
  description: `Kubernetes scheduler ${KUBERNETES_VERSION}`,
  group: 'stack',
  dependsOn: ['kube-apiserver'],
  ports: (ctx) => [{ variable: 'CORTEXOPS_KUBE_SCHEDULER_PORT', port: stackPorts(ctx).kubeSchedulerPort }],
  install: async (ctx) => {
    await installKubernetes(ctx);
  },
  command: (ctx) => ({
    command: kubernetesBinary(ctx, 'kube-scheduler'),
    args: componentArgs(ctx, kubeconfigPaths(ctx).scheduler, stackPorts(ctx).kubeSchedulerPort),
  }),
  probe: (ctx) => httpsOk(ctx, `${url(ctx)}/healthz`),
  endpoints: (ctx) => ({ health: `${url(ctx)}/healthz` }),
};
