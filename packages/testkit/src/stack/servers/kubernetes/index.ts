export { etcd } from './etcd.js';
export { kubeApiserver } from './kube-apiserver.js';
export { kubeControllerManager } from './kube-controller-manager.js';
export { kubeScheduler } from './kube-scheduler.js';
export { kwok, demoDeployment, kwokNodeName } from './kwok.js';
export { kubeStateMetrics, KUBE_STATE_METRICS_RESOURCES } from './kube-state-metrics.js';
export * from './paths.js';
