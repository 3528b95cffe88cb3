export * from './stack/types.js';
export { createStackContext, stackPorts, REPO_ROOT, type StackContextOptions } from './stack/context.js';
export { createLauncher, resolveOrder, ServerStartError, UnknownServerError, type Launcher, type ServerStatus, type UpResult } from './stack/launcher.js';
export { PortInUseError, isPortFree } from './stack/ports.js';
export { InstallError, installOnce, installDebianPackage, installGoModule, installPythonPackage } from './stack/install.js';
export { runningPid, logFile } from './stack/process.js';
export { ALL_SERVERS, SERVICE_SERVERS, STACK_SERVERS } from './stack/registry.js';
export { VERSIONS } from './stack/versions.js';
export { postgresUrl, postgresCaFile, postgresRoleUrl, postgresPassword, prepareRoles, POSTGRES_DATABASE, POSTGRES_ROLES, type PostgresRole } from './stack/servers/postgres.js';
export { temporalCli } from './stack/servers/temporal.js';
export { qdrant, qdrantBinary, qdrantUrl, QDRANT_DEFAULT_BIN } from './stack/servers/qdrant.js';
export { embeddingModelDir, installEmbeddingModel } from './stack/embedding-model.js';
export { webhookTokenFile } from './stack/tokens.js';
export * from './testing.js';
export * from './service-process.js';
export {
  apiserverUrl,
  kubeconfigPaths,
  kubernetesBinary,
  DEMO_DEPLOYMENT,
  DEMO_NAMESPACE,
  DEMO_REPLICAS,
  KWOK_NODE_ANNOTATION,
  WORKER_NAMESPACE,
  WORKER_SERVICE_ACCOUNT,
  INGESTION_SERVICE_ACCOUNT,
  type KubeconfigPaths,
} from './stack/servers/kubernetes/index.js';
export { kubectl, KubectlError } from './stack/servers/kubernetes/kubectl.js';
export * from './fixtures.js';
export * from './workflow-record.js';
export { removeDemoObjects, runDemo, type DemoOptions, type DemoResult } from './demo.js';
export * from './slack.js';
export * from './openai.js';
export * from './remediation.js';
export { kwokNode } from './stack/servers/kubernetes/kwok.js';
export * from './prometheus-rules.js';
export * from './rules-prometheus.js';
export * from './node-exporter.js';
export * from './faults.js';
export * from './incident-watch.js';
export { startAlertmanager, DROP_EVERYTHING_ALERTMANAGER_CONFIG, type StandaloneAlertmanager } from './alertmanager.js';
export * from './upload.js';
export * from './chaos/index.js';
export { natsAdminConnectOptions, natsCaFile, natsConfigFile, natsConnectOptions, natsEnv, natsSecured, natsSeedFile, type StackNatsUser } from './stack/nats-auth.js';
export * from './tls-terminator.js';
export * from './stack-prometheus.js';
export * from './secured-prometheus.js';
export * from './tenant-gateway.js';
