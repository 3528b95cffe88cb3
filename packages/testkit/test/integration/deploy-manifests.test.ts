import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, AuthenticationV1Api, AuthorizationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { serviceSpecs } from '@cortexops/config';
import { SERVICE_NAMES, type ServiceName } from '@cortexops/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import {
  DEMO_NAMESPACE,
  ensureServers,
  kubeconfigPaths,
  kubectl,
  KubectlError,
  kubernetesBinary,
  apiserverUrl,
  REPO_ROOT,
  uniqueName,
  WORKER_NAMESPACE,
  WORKER_SERVICE_ACCOUNT,
  type StackContext,
} from '@cortexops/testkit';

/*
 * deploy/k8s against the real local control plane: every manifest passes a server-side dry run (schema,
 * defaulting, validation and Pod Security Admission `restricted` of cortexops-system), the RBAC gives the
 * worker and the ingestion watcher exactly what they use, and every Deployment keeps its hardening.
 * The directory is read at run time, so a new manifest is covered without touching this file.
 */

const DEPLOY_DIR = join(REPO_ROOT, 'deploy', 'k8s');
const SECRET_NAME = 'cortexops-secrets';
/** Only these talk to the Kubernetes API; every other pod runs without a ServiceAccount token. */
const TOKEN_MOUNTED = new Set(['cortexops-worker', 'cortexops-ingestion', 'cortexops-ingestion-watcher']);
/** The field manager `make up` applies the worker's RBAC with; RBAC applied here ends in the same state. */
const STACK_FIELD_MANAGER = 'cortexops-stack';

// ---------------------------------------------------------------------------------------------------------
// Reading the manifests

interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [key: string]: unknown;
}

interface Probe {
  readonly httpGet?: { readonly path?: string; readonly port?: string | number };
  readonly timeoutSeconds?: number;
}
interface EnvVarSource {
  readonly configMapKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean };
  readonly secretKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean };
}
interface Container {
  readonly name: string;
  readonly env?: readonly { readonly name: string; readonly value?: string; readonly valueFrom?: EnvVarSource }[];
  readonly envFrom?: readonly unknown[];
  readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[];
  readonly resources?: { readonly requests?: Record<string, string>; readonly limits?: Record<string, string> };
  readonly startupProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string }[];
  readonly securityContext?: {
    readonly runAsNonRoot?: boolean;
    readonly runAsUser?: number;
    readonly privileged?: boolean;
    readonly allowPrivilegeEscalation?: boolean;
    readonly readOnlyRootFilesystem?: boolean;
    readonly capabilities?: { readonly drop?: readonly string[]; readonly add?: readonly string[] };
    readonly seccompProfile?: { readonly type?: string };
  };
}
interface PodSpec {
  readonly serviceAccountName?: string;
  readonly automountServiceAccountToken?: boolean;
  readonly enableServiceLinks?: boolean;
  readonly hostNetwork?: boolean;
  readonly hostPID?: boolean;
  readonly securityContext?: { readonly runAsNonRoot?: boolean; readonly runAsUser?: number; readonly seccompProfile?: { readonly type?: string } };
  readonly containers: readonly Container[];
  readonly initContainers?: readonly Container[];
  readonly volumes?: readonly { readonly name: string; readonly emptyDir?: unknown; readonly configMap?: { readonly name: string } }[];
}
interface Deployment extends K8sObject {
  readonly spec: {
    readonly replicas?: number;
    readonly selector: { readonly matchLabels: Record<string, string> };
    readonly template: { readonly metadata: { readonly labels: Record<string, string> }; readonly spec: PodSpec };
  };
}

interface PodDisruptionBudget extends K8sObject {
  readonly spec: { readonly selector: { readonly matchLabels: Record<string, string> } };
}

interface ManifestFile {
  readonly file: string;
  readonly path: string;
  readonly objects: readonly K8sObject[];
}

function readManifests(): ManifestFile[] {
  return readdirSync(DEPLOY_DIR)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .sort()
    .map((file) => {
      const path = join(DEPLOY_DIR, file);
      const docs = parseAllDocuments(readFileSync(path, 'utf8'));
      for (const doc of docs) if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const objects = docs.map((d) => d.toJSON() as K8sObject | null).filter((o): o is K8sObject => o !== null);
      return { file, path, objects };
    });
}

const MANIFESTS = readManifests();
const ALL = MANIFESTS.flatMap((m) => m.objects);
const ofKind = <T extends K8sObject = K8sObject>(kind: string) => ALL.filter((o) => o.kind === kind) as T[];
const DEPLOYMENTS = ofKind<Deployment>('Deployment');

const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** The service a Deployment runs: the image picks it with CORTEXOPS_SERVICE (Dockerfile). */
function serviceOf(container: Container): ServiceName | undefined {
  const name = container.env?.find((e) => e.name === 'CORTEXOPS_SERVICE')?.value;
  return (SERVICE_NAMES as readonly string[]).includes(name ?? '') ? (name as ServiceName) : undefined;
}

/**
 * Everything a Deployment of CortexOps must keep, as a list of problems (empty when it is right), so that
 * a regression names what broke. Checked against `objects` (the whole directory) for cross-references.
 */
function deploymentProblems(d: Deployment, objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const name = d.metadata.name;
  const pod = d.spec.template.spec;
  const podSc = pod.securityContext ?? {};
  const ownKind = (kind: string) => objects.filter((o) => o.kind === kind);

  if (d.metadata.namespace !== WORKER_NAMESPACE) problems.push(`namespace is ${d.metadata.namespace}, not ${WORKER_NAMESPACE}`);
  if (!matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)) problems.push('selector does not match the pod template labels');
  if (podSc.runAsNonRoot !== true) problems.push('pod securityContext.runAsNonRoot is not true');
  if (typeof podSc.runAsUser !== 'number' || podSc.runAsUser === 0) problems.push('pod securityContext.runAsUser is not a non-zero number (the kubelet cannot check a named user)');
  if (pod.hostNetwork || pod.hostPID) problems.push('uses the host network or PID namespace');
  if (pod.enableServiceLinks !== false) problems.push('enableServiceLinks is not false (CORTEXOPS_<SERVICE>_PORT would be overwritten by service links)');

  const wantsToken = TOKEN_MOUNTED.has(name);
  if (pod.automountServiceAccountToken !== wantsToken) problems.push(`automountServiceAccountToken is ${String(pod.automountServiceAccountToken)}, expected ${String(wantsToken)}`);
  const sa = pod.serviceAccountName;
  if (!sa || !ownKind('ServiceAccount').some((o) => o.metadata.name === sa && o.metadata.namespace === WORKER_NAMESPACE)) {
    problems.push(`serviceAccountName ${String(sa)} is not a ServiceAccount of deploy/k8s`);
  }

  if ((d.spec.replicas ?? 1) > 1) {
    const pdb = ownKind('PodDisruptionBudget').find(
      (p) => p.metadata.namespace === d.metadata.namespace && matches((p as PodDisruptionBudget).spec.selector.matchLabels, d.spec.template.metadata.labels),
    );
    if (!pdb) problems.push(`${String(d.spec.replicas)} replicas but no PodDisruptionBudget selects its pods`);
  }

  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
    const where = `container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.runAsNonRoot === false || sc.runAsUser === 0) problems.push(`${where} may run as root`);
    if (sc.privileged) problems.push(`${where} is privileged`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${where} allowPrivilegeEscalation is not false`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${where} readOnlyRootFilesystem is not true`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where} does not drop ALL capabilities`);
    if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${where} adds capabilities`);
    if ((sc.seccompProfile?.type ?? podSc.seccompProfile?.type) !== 'RuntimeDefault') problems.push(`${where} seccompProfile is not RuntimeDefault`);
    for (const kind of ['requests', 'limits'] as const) {
      for (const resource of ['cpu', 'memory']) if (!c.resources?.[kind]?.[resource]) problems.push(`${where} has no ${resource} ${kind.slice(0, -1)}`);
    }
    for (const mount of c.volumeMounts ?? []) if (!volumes.has(mount.name)) problems.push(`${where} mounts undefined volume ${mount.name}`);
    if (sc.readOnlyRootFilesystem === true && !(c.volumeMounts ?? []).some((m) => m.mountPath === '/tmp' && volumes.get(m.name)?.emptyDir !== undefined)) {
      problems.push(`${where} has a read-only root but no writable /tmp (emptyDir)`);
    }
    if (c.envFrom !== undefined) problems.push(`${where} uses envFrom (each variable is picked by name)`);
  }

  // Probes, environment and ports concern the service's own container (init containers have none).
  for (const c of pod.containers) {
    const where = `container ${c.name}`;
    const portNames = new Set((c.ports ?? []).map((p) => p.name));
    const probe = (kind: 'startupProbe' | 'readinessProbe' | 'livenessProbe') => {
      const p = c[kind];
      if (!p?.httpGet) {
        problems.push(`${where} has no HTTP ${kind}`);
        return undefined;
      }
      if (!portNames.has(String(p.httpGet.port))) problems.push(`${where} ${kind} port ${String(p.httpGet.port)} is not a named container port`);
      return p.httpGet.path;
    };
    if (probe('readinessProbe') !== '/debug/healthz') problems.push(`${where} readinessProbe is not /debug/healthz`);
    // Health answers 503 while a dependency is down; liveness on it would restart pods during an outage.
    const liveness = probe('livenessProbe');
    if (liveness === '/debug/healthz') problems.push(`${where} livenessProbe follows dependency health (/debug/healthz)`);
    probe('startupProbe');
    // The health checks themselves time out after 2 s (packages/observability).
    if ((c.readinessProbe?.timeoutSeconds ?? 1) <= 2) problems.push(`${where} readinessProbe timeoutSeconds must exceed the 2 s health-check timeout`);

    const service = serviceOf(c);
    if (!service) {
      problems.push(`${where} sets no valid CORTEXOPS_SERVICE`);
      continue;
    }
    const spec = Object.values(serviceSpecs[service]) as readonly { name: string; secret?: boolean }[];
    const known = new Map(spec.map((v) => [v.name, v]));
    for (const e of c.env ?? []) {
      if (e.name === 'CORTEXOPS_SERVICE' || e.name === 'NODE_OPTIONS') continue;
      const variable = known.get(e.name);
      if (!variable) problems.push(`${where} sets ${e.name}, which the ${service} service does not read`);
      if (variable?.secret && !e.valueFrom?.secretKeyRef) problems.push(`${where} ${e.name} is a secret but does not come from a Secret`);
      const cmRef = e.valueFrom?.configMapKeyRef;
      if (cmRef) {
        const cm = ownKind('ConfigMap').find((o) => o.metadata.name === cmRef.name) as { data?: Record<string, string> } | undefined;
        if (!cm) problems.push(`${where} ${e.name} refers to ConfigMap ${cmRef.name}, not in deploy/k8s`);
        else if (!(cmRef.key in (cm.data ?? {})) && !cmRef.optional) problems.push(`${where} ${e.name} refers to missing key ${cmRef.key} of ConfigMap ${cmRef.name}`);
      }
      const secretRef = e.valueFrom?.secretKeyRef;
      if (secretRef && secretRef.name !== SECRET_NAME) problems.push(`${where} ${e.name} refers to Secret ${secretRef.name}, not ${SECRET_NAME}`);
    }
    const portVar = `CORTEXOPS_${service.toUpperCase()}_PORT`;
    const port = Number(c.env?.find((e) => e.name === portVar)?.value);
    if (!(c.ports ?? []).some((p) => p.name === 'http' && p.containerPort === port)) problems.push(`${where} ${portVar} is not the containerPort named http`);
    problems.push(...heapProblems(c, where));
  }
  return problems;
}

/** V8 sizes its heap from the node's memory, not the container's: the limit must be set, with room for the rest. */
function heapProblems(c: Container, where: string): string[] {
  const heap = /--max-old-space-size=(\d+)/.exec(c.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '');
  if (!heap) return [`${where} NODE_OPTIONS sets no --max-old-space-size`];
  const limit = /^(\d+)(Mi|Gi)$/.exec(c.resources?.limits?.memory ?? '');
  if (!limit) return c.resources?.limits?.memory ? [`${where} memory limit is not in Mi or Gi`] : [];
  const limitMiB = Number(limit[1]) * (limit[2] === 'Gi' ? 1024 : 1);
  const heapMiB = Number(heap[1]);
  return heapMiB > limitMiB * 0.75 ? [`${where} heap of ${heapMiB} MiB leaves less than a quarter of the ${limitMiB} MiB memory limit`] : [];
}

// ---------------------------------------------------------------------------------------------------------
// Talking to the API server

/** kubectl with both streams: warnings (Pod Security, deprecations) arrive on stderr of a successful call. */
function kubectlFull(ctx: StackContext, args: readonly string[], stdin = ''): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      kubernetesBinary(ctx, 'kubectl'),
      ['--kubeconfig', kubeconfigPaths(ctx).admin, ...args],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => (error ? reject(new KubectlError(args, stderr || error.message, stdout, { cause: error })) : resolve({ stdout, stderr })),
    );
    child.stdin?.end(stdin);
  });
}

/** Warnings other than client-side apply's note about objects `make up` created without it. */
const realWarnings = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('Warning:') && !l.includes('kubectl.kubernetes.io/last-applied-configuration'));

const asList = (objects: readonly K8sObject[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });

const serviceAccountUser = (name: string) => ({
  user: `system:serviceaccount:${WORKER_NAMESPACE}:${name}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${WORKER_NAMESPACE}`, 'system:authenticated'],
});

interface Access {
  readonly verb: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly group?: string;
  /** Omitted: cluster-wide (every namespace, or a cluster-scoped resource). */
  readonly namespace?: string;
}
const describeAccess = (a: Access) =>
  `${a.verb} ${a.group ? `${a.group}/` : ''}${a.resource}${a.subresource ? `/${a.subresource}` : ''} ${a.namespace ? `in ${a.namespace}` : 'cluster-wide'}`;

const apps = (verb: string, resource: string, namespace?: string, subresource?: string): Access => ({
  verb,
  resource,
  group: 'apps',
  ...(namespace ? { namespace } : {}),
  ...(subresource ? { subresource } : {}),
});
const core = (verb: string, resource: string, namespace?: string, subresource?: string): Access => ({
  verb,
  resource,
  ...(namespace ? { namespace } : {}),
  ...(subresource ? { subresource } : {}),
});

/**
 * What the action catalogue (packages/k8s/src/resources.ts) does in an enrolled namespace, and on nodes.
 * Scaling patches the Deployment/StatefulSet itself (the remediation-id annotation lands in the same
 * request), so the scale subresource is neither required nor, being no more powerful than patch, denied.
 */
const WORKER_ALLOWED: readonly Access[] = [
  ...['get', 'list', 'delete'].map((v) => core(v, 'pods', DEMO_NAMESPACE)),
  ...['deployments', 'statefulsets'].flatMap((r) => ['get', 'list', 'patch'].map((v) => apps(v, r, DEMO_NAMESPACE))),
  ...['get', 'list'].map((v) => apps(v, 'replicasets', DEMO_NAMESPACE)),
  ...['get', 'list', 'patch'].map((v) => core(v, 'nodes')),
];
const WORKER_DENIED: readonly Access[] = [
  ...['get', 'list', 'watch'].flatMap((v) => [core(v, 'secrets', DEMO_NAMESPACE), core(v, 'secrets', WORKER_NAMESPACE), core(v, 'secrets')]),
  core('get', 'configmaps', DEMO_NAMESPACE),
  // kube-system is never enrolled.
  apps('patch', 'deployments', 'kube-system'),
  apps('get', 'deployments', 'kube-system'),
  apps('patch', 'deployments', 'kube-system', 'scale'),
  core('delete', 'pods', 'kube-system'),
  core('get', 'pods', 'kube-system'),
  // Nor is any other namespace that has no RoleBinding.
  apps('patch', 'deployments', 'default'),
  // Nothing is created, replaced or removed wholesale.
  apps('create', 'deployments', DEMO_NAMESPACE),
  apps('update', 'deployments', DEMO_NAMESPACE),
  apps('delete', 'deployments', DEMO_NAMESPACE),
  apps('delete', 'replicasets', DEMO_NAMESPACE),
  core('create', 'pods', DEMO_NAMESPACE),
  core('create', 'pods', DEMO_NAMESPACE, 'exec'),
  core('delete', 'nodes'),
  core('create', 'nodes'),
  core('update', 'nodes'),
  // What patch of a node may change is narrowed further by worker-admission.yaml (packages/k8s admission test).
  core('patch', 'nodes', undefined, 'status'),
  core('create', 'pods', DEMO_NAMESPACE, 'eviction'),
  { verb: 'create', resource: 'rolebindings', group: 'rbac.authorization.k8s.io', namespace: DEMO_NAMESPACE },
  { verb: 'bind', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
];
/** services/ingestion/src/owners.ts from every ingestion replica: an informer of Pods and ReplicaSets (list, watch), get one it has not shown. */
const OWNER_LOOKUPS: readonly Access[] = [
  core('get', 'pods', DEMO_NAMESPACE),
  core('list', 'pods'),
  core('watch', 'pods'),
  apps('get', 'replicasets', DEMO_NAMESPACE),
  apps('list', 'replicasets'),
  apps('watch', 'replicasets'),
];
/** services/ingestion/src/kubernetes.ts: list+watch Warning events everywhere, and the owner lookups. */
const INGESTION_ALLOWED: readonly Access[] = [core('list', 'events'), core('watch', 'events'), core('list', 'events', 'kube-system'), ...OWNER_LOOKUPS];
/** The webhook replicas: the owner lookups, nothing else. */
const INGESTION_WEBHOOK_ALLOWED: readonly Access[] = OWNER_LOOKUPS;
const INGESTION_DENIED: readonly Access[] = [
  ...['get', 'list', 'watch'].flatMap((v) => [core(v, 'secrets', DEMO_NAMESPACE), core(v, 'secrets')]),
  core('get', 'configmaps', DEMO_NAMESPACE),
  core('delete', 'pods', DEMO_NAMESPACE),
  core('create', 'events', DEMO_NAMESPACE),
  core('patch', 'events', DEMO_NAMESPACE),
  apps('get', 'deployments', DEMO_NAMESPACE),
  apps('patch', 'deployments', DEMO_NAMESPACE),
  apps('delete', 'replicasets', DEMO_NAMESPACE),
  core('patch', 'nodes'),
];

describe('deploy/k8s — manifests on the local API server', () => {
  let ctx: StackContext;
  let authz: AuthorizationV1Api;

  async function allowed(subject: string, access: Access): Promise<{ allowed: boolean; reason: string }> {
    const review = await authz.createSubjectAccessReview({
      body: {
        spec: {
          ...serviceAccountUser(subject),
          resourceAttributes: {
            verb: access.verb,
            resource: access.resource,
            group: access.group ?? '',
            ...(access.subresource ? { subresource: access.subresource } : {}),
            ...(access.namespace ? { namespace: access.namespace } : {}),
          },
        },
      },
    });
    return { allowed: review.status?.allowed === true, reason: review.status?.reason ?? '' };
  }

  async function expectAccess(subject: string, allow: readonly Access[], deny: readonly Access[]): Promise<void> {
    const answers = await Promise.all([...allow, ...deny].map(async (a) => [describeAccess(a), (await allowed(subject, a)).allowed] as const));
    const expected = [...allow.map((a) => [describeAccess(a), true] as const), ...deny.map((a) => [describeAccess(a), false] as const)];
    expect(Object.fromEntries(answers)).toEqual(Object.fromEntries(expected));
  }

  beforeAll(async () => {
    ctx = await ensureServers(['kube-controller-manager']);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPaths(ctx).admin);
    authz = kc.makeApiClient(AuthorizationV1Api);
    // A dry run of an object in a namespace that does not exist fails: the namespaces are created for real
    // first (cortexops-system with its Pod Security labels; `make up` enrolled demo). RBAC is applied for
    // real too, as `make up` does for the worker, so the access reviews below judge these files.
    const real = ALL.filter((o) => ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind));
    const namespaces = real.filter((o) => o.kind === 'Namespace');
    await kubectl(ctx, ['apply', '--server-side', '--force-conflicts', `--field-manager=${STACK_FIELD_MANAGER}`, '-f', '-'], { stdin: asList(namespaces) });
    await kubectl(ctx, ['apply', '--server-side', '--force-conflicts', `--field-manager=${STACK_FIELD_MANAGER}`, '-f', '-'], { stdin: asList(real.filter((o) => o.kind !== 'Namespace')) });
  });

  it('directory — holds the manifests of every service, and no Secret', () => {
    expect(MANIFESTS.map((m) => m.file)).toEqual(expect.arrayContaining(['namespace.yaml', 'worker-rbac.yaml', 'ingestion-rbac.yaml', ...SERVICE_NAMES.map((s) => `${s}.yaml`)]));
    expect(ofKind('Secret')).toEqual([]);
    const services = new Set(DEPLOYMENTS.flatMap((d) => d.spec.template.spec.containers.map(serviceOf)));
    expect([...services].sort()).toEqual([...SERVICE_NAMES].sort());
    // Every namespaced object is in cortexops-system: the production manifests enrol no namespace (the local
    // stack enrols its demo namespace with deploy/local/demo-enrolment.yaml).
    const elsewhere = ALL.filter((o) => o.metadata.namespace !== undefined && o.metadata.namespace !== WORKER_NAMESPACE);
    expect(elsewhere.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    expect(ofKind('Namespace').map((o) => o.metadata.name)).toEqual([WORKER_NAMESPACE]);
  });

  it.each(MANIFESTS.map((m) => [m.file, m] as const))('dry run — kubectl apply --dry-run=server accepts %s without a warning', async (_file, manifest) => {
    const { stdout, stderr } = await kubectlFull(ctx, ['apply', '--dry-run=server', '-f', manifest.path]);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(manifest.objects.length);
    expect(lines.every((l) => l.endsWith('(server dry run)'))).toBe(true);
    expect(realWarnings(stderr)).toEqual([]);
  });

  it('dry run — Pod Security `restricted` is enforced in cortexops-system (a Deployment that may run as root is warned about)', async () => {
    const [first] = DEPLOYMENTS;
    expect(first).toBeDefined();
    const d = structuredClone(first!) as unknown as { spec: { template: { spec: { securityContext: Record<string, unknown>; containers: { securityContext: Record<string, unknown> }[] } } } };
    d.spec.template.spec.securityContext.runAsNonRoot = false;
    d.spec.template.spec.containers[0]!.securityContext.runAsNonRoot = false;
    const { stderr } = await kubectlFull(ctx, ['apply', '--dry-run=server', '-f', '-'], JSON.stringify(d));
    expect(realWarnings(stderr).join('\n')).toMatch(/would violate PodSecurity "restricted:latest".*runAsNonRoot/);
    // A pod itself is refused outright.
    const template = first!.spec.template;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cortexops-psa-probe', namespace: WORKER_NAMESPACE, labels: template.metadata.labels }, spec: d.spec.template.spec };
    await expect(kubectl(ctx, ['apply', '--dry-run=server', '-f', '-'], { stdin: JSON.stringify(pod) })).rejects.toThrow(/violates PodSecurity "restricted:latest"/);
  });

  it.each(DEPLOYMENTS.map((d) => [d.metadata.name, d] as const))('pod admission — a pod of %s is admitted under the enforced `restricted` profile', async (_name, d) => {
    // What the ReplicaSet controller will create: the template as a Pod (its ServiceAccount exists, applied above).
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${d.metadata.name}-admission`, namespace: WORKER_NAMESPACE, labels: d.spec.template.metadata.labels }, spec: d.spec.template.spec };
    const { stdout, stderr } = await kubectlFull(ctx, ['create', '--dry-run=server', '-o', 'jsonpath={.spec.serviceAccountName}', '-f', '-'], JSON.stringify(pod));
    expect(stdout).toBe(d.spec.template.spec.serviceAccountName);
    expect(realWarnings(stderr)).toEqual([]);
  });

  it('kustomization — lists every manifest of the directory, builds, and the build passes a server dry run', async () => {
    const kustomization = parse(readFileSync(join(DEPLOY_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(MANIFESTS.map((m) => m.file));
    const built = parseAllDocuments(await kubectl(ctx, ['kustomize', DEPLOY_DIR])).map((d) => d.toJSON() as K8sObject);
    expect(built.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(ALL.map((o) => `${o.kind}/${o.metadata.name}`).sort());
    const { stdout, stderr } = await kubectlFull(ctx, ['apply', '--dry-run=server', '-k', DEPLOY_DIR]);
    expect(stdout.trim().split('\n')).toHaveLength(ALL.length);
    expect(realWarnings(stderr)).toEqual([]);
  });

  it.each(DEPLOYMENTS.map((d) => [d.metadata.name, d] as const))(
    'hardening — %s runs as non-root on a read-only root, drops every capability, has requests, limits and probes',
    (_name, d) => {
      expect(deploymentProblems(d, ALL)).toEqual([]);
    },
  );

  it('hardening — the check names each regression of a Deployment', () => {
    const worker = DEPLOYMENTS.find((d) => d.metadata.name === 'cortexops-worker');
    expect(worker).toBeDefined();
    const bad = structuredClone(worker!) as unknown as { spec: { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } } };
    const pod = bad.spec.template.spec;
    const container = pod.containers[0]!;
    pod.securityContext = { runAsNonRoot: true };
    pod.enableServiceLinks = true;
    pod.automountServiceAccountToken = false;
    container.securityContext = { readOnlyRootFilesystem: true, capabilities: { drop: ['NET_RAW'], add: ['SYS_ADMIN'] } };
    container.resources = { requests: { cpu: '100m' } };
    container.livenessProbe = container.readinessProbe;
    delete container.startupProbe;
    const env = (container.env as { name: string; value?: string }[]).filter((e) => e.name !== 'NODE_OPTIONS');
    container.env = [...env, { name: 'CORTEXOPS_KUBECONFIG', value: '/etc/kube' }, { name: 'NODE_OPTIONS', value: '--max-semi-space-size=32' }];
    const others = ALL.filter((o) => !(o.kind === 'PodDisruptionBudget' && o.metadata.name === 'cortexops-worker'));
    expect(deploymentProblems(bad as unknown as Deployment, others)).toEqual([
      'pod securityContext.runAsUser is not a non-zero number (the kubelet cannot check a named user)',
      'enableServiceLinks is not false (CORTEXOPS_<SERVICE>_PORT would be overwritten by service links)',
      'automountServiceAccountToken is false, expected true',
      '2 replicas but no PodDisruptionBudget selects its pods',
      'container worker allowPrivilegeEscalation is not false',
      'container worker does not drop ALL capabilities',
      'container worker adds capabilities',
      'container worker seccompProfile is not RuntimeDefault',
      'container worker has no memory request',
      'container worker has no cpu limit',
      'container worker has no memory limit',
      'container worker livenessProbe follows dependency health (/debug/healthz)',
      'container worker has no HTTP startupProbe',
      'container worker sets CORTEXOPS_KUBECONFIG, which the worker service does not read',
      'container worker NODE_OPTIONS sets no --max-old-space-size',
    ]);
    const api = structuredClone(DEPLOYMENTS.find((d) => d.metadata.name === 'cortexops-api')!) as unknown as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } };
    const apiContainer = api.spec.template.spec.containers[0]!;
    apiContainer.env = apiContainer.env.map((e) => (e.name === 'NODE_OPTIONS' ? { ...e, value: '--max-old-space-size=500' } : e));
    expect(deploymentProblems(api as unknown as Deployment, ALL)).toEqual(['container api heap of 500 MiB leaves less than a quarter of the 512 MiB memory limit']);
  });

  it('services and budgets — every Service and PodDisruptionBudget selects the pods of a Deployment of the directory', () => {
    for (const s of ofKind<K8sObject & { spec: { selector: Record<string, string>; ports: { targetPort: string | number }[] } }>('Service')) {
      const targets = DEPLOYMENTS.filter((d) => matches(s.spec.selector, d.spec.template.metadata.labels));
      expect(targets.map((d) => d.metadata.name), `Service ${s.metadata.name}`).not.toEqual([]);
      for (const port of s.spec.ports) {
        expect(targets.every((d) => d.spec.template.spec.containers.some((c) => (c.ports ?? []).some((p) => p.name === port.targetPort))), `Service ${s.metadata.name} port ${String(port.targetPort)}`).toBe(true);
      }
    }
    for (const p of ofKind<PodDisruptionBudget>('PodDisruptionBudget')) {
      const targets = DEPLOYMENTS.filter((d) => matches(p.spec.selector.matchLabels, d.spec.template.metadata.labels));
      expect(targets.map((d) => d.spec.replicas ?? 1), `PodDisruptionBudget ${p.metadata.name}`).toEqual([expect.any(Number)]);
      expect(targets[0]!.spec.replicas ?? 1, `PodDisruptionBudget ${p.metadata.name} guards more than one replica`).toBeGreaterThan(1);
    }
  });

  it('worker RBAC — the worker can do each verb of the action catalogue in an enrolled namespace, and nothing else', async () => {
    await expectAccess(WORKER_SERVICE_ACCOUNT, WORKER_ALLOWED, WORKER_DENIED);
  });

  it('worker RBAC — kubectl auth can-i --as the worker agrees with the access reviews', async () => {
    const as = `--as=system:serviceaccount:${WORKER_NAMESPACE}:${WORKER_SERVICE_ACCOUNT}`;
    expect((await kubectl(ctx, ['auth', 'can-i', 'patch', 'deployments.apps', '-n', DEMO_NAMESPACE, as])).trim()).toBe('yes');
    for (const args of [
      ['get', 'secrets', '-n', DEMO_NAMESPACE],
      ['delete', 'pods', '-n', 'kube-system'],
    ]) {
      const denied = kubectl(ctx, ['auth', 'can-i', ...args, as]);
      await expect(denied).rejects.toMatchObject({ stdout: 'no\n' });
    }
  });

  it('ingestion RBAC — the event watcher can list and watch events and resolve owners, and read nothing else', async () => {
    await expectAccess('cortexops-ingestion', INGESTION_ALLOWED, INGESTION_DENIED);
  });

  it('ingestion RBAC — the webhook replicas can resolve pod owners and not even list or watch events', async () => {
    await expectAccess('cortexops-ingestion-webhook', INGESTION_WEBHOOK_ALLOWED, [...INGESTION_DENIED, core('list', 'events'), core('watch', 'events')]);
  });

  it('other services — correlator, approvals and api have no Kubernetes permissions at all', async () => {
    const probes = [core('get', 'pods', DEMO_NAMESPACE), core('list', 'events'), core('get', 'secrets', WORKER_NAMESPACE), apps('get', 'deployments', DEMO_NAMESPACE), core('get', 'nodes')];
    for (const account of ['cortexops-correlator', 'cortexops-approvals', 'cortexops-api']) {
      await expectAccess(account, [], probes);
    }
  });

  describe('rollout on kwok — the workloads of deploy/k8s, applied for real to a scratch namespace', () => {
    // Same Pod Security labels as cortexops-system; only namespaced objects are copied (no cluster-wide RBAC).
    const scratch = uniqueName('cortexops-deploy').replace(/_/g, '-');
    const COPIED = new Set(['ServiceAccount', 'ConfigMap', 'Deployment', 'Service', 'PodDisruptionBudget']);
    let admin: { core: CoreV1Api; apps: AppsV1Api };

    beforeAll(async () => {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPaths(ctx).admin);
      admin = { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
      const namespace = ofKind('Namespace').find((n) => n.metadata.name === WORKER_NAMESPACE);
      expect(namespace).toBeDefined();
      const objects = [
        { ...namespace!, metadata: { ...namespace!.metadata, name: scratch } },
        ...ALL.filter((o) => COPIED.has(o.kind) && o.metadata.namespace === WORKER_NAMESPACE).map((o) => ({ ...o, metadata: { ...o.metadata, namespace: scratch } })),
      ];
      await kubectl(ctx, ['apply', '-f', '-'], { stdin: asList(objects) });
    });

    afterAll(async () => {
      await kubectl(ctx, ['delete', 'namespace', scratch, '--wait=false', '--ignore-not-found']);
    });

    it('every Deployment gets all its replicas Ready on kwok nodes, and each budget allows one disruption', async () => {
      const expected = Object.fromEntries(DEPLOYMENTS.map((d) => [d.metadata.name, d.spec.replicas ?? 1]));
      await expect
        .poll(async () => {
          const list = await admin.apps.listNamespacedDeployment({ namespace: scratch });
          return Object.fromEntries(list.items.map((d): [string, number] => [d.metadata?.name ?? '', d.status?.readyReplicas ?? 0]));
        }, { timeout: 90_000, interval: 500 })
        .toEqual(expected);
      const pods = await admin.core.listNamespacedPod({ namespace: scratch });
      expect(pods.items.every((p) => p.spec?.nodeName?.startsWith('kwok-node-') && p.spec.securityContext?.runAsNonRoot === true)).toBe(true);
      const budgets = ofKind('PodDisruptionBudget').map((p) => p.metadata.name);
      await expect
        .poll(async () => {
          const list = await kubectl(ctx, ['get', 'pdb', '-n', scratch, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.disruptionsAllowed} {end}']);
          return list.trim().split(' ').filter(Boolean).sort();
        }, { timeout: 30_000, interval: 500 })
        .toEqual(budgets.map((b) => `${b}=1`).sort());
    });
  });

  describe('in-cluster kubeconfig — the committed kubeconfig authenticates with a projected token', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'cortexops-kubeconfig-'));
    });
    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('ingestion — lists Warning events as cortexops-ingestion and is Forbidden from Secrets', async () => {
      const cm = ofKind<K8sObject & { data: { kubeconfig: string } }>('ConfigMap').find((o) => o.metadata.name === 'cortexops-kubeconfig');
      expect(cm).toBeDefined();
      // What the kubelet would project into the pod: a bound token of the ServiceAccount and the cluster CA.
      const token = (await kubectl(ctx, ['create', 'token', 'cortexops-ingestion', '-n', WORKER_NAMESPACE, '--duration=10m'])).trim();
      writeFileSync(join(dir, 'token'), token);
      // Only the pod paths and the address change; the file's shape (auth-provider tokenFile) is what is tested.
      const admin = new KubeConfig();
      admin.loadFromFile(kubeconfigPaths(ctx).admin);
      const cluster = admin.getCurrentCluster();
      const caFile = cluster?.caFile ?? join(dir, 'ca.crt');
      if (!cluster?.caFile) writeFileSync(caFile, Buffer.from(cluster?.caData ?? '', 'base64'));
      const local = cm!.data.kubeconfig
        .replace('https://kubernetes.default.svc', apiserverUrl(ctx))
        .replace('/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', caFile)
        .replace('/var/run/secrets/kubernetes.io/serviceaccount/token', join(dir, 'token'));
      expect(local).not.toContain('/var/run/secrets');
      writeFileSync(join(dir, 'kubeconfig'), local);
      const kc = new KubeConfig();
      kc.loadFromFile(join(dir, 'kubeconfig'));
      const whoami = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
      expect(whoami.status?.userInfo?.username).toBe(`system:serviceaccount:${WORKER_NAMESPACE}:cortexops-ingestion`);
      const coreApi = kc.makeApiClient(CoreV1Api);
      const events = await coreApi.listEventForAllNamespaces({ fieldSelector: 'type=Warning', limit: 5 });
      expect(Array.isArray(events.items)).toBe(true);
      await expect(coreApi.listNamespacedSecret({ namespace: DEMO_NAMESPACE })).rejects.toMatchObject({ code: 403 });
      // The owner chain the watcher resolves: a demo pod, then its ReplicaSet, each by name.
      const adminCore = admin.makeApiClient(CoreV1Api);
      const [demoPod] = (await adminCore.listNamespacedPod({ namespace: DEMO_NAMESPACE })).items.filter((p) => p.metadata?.ownerReferences?.[0]?.kind === 'ReplicaSet');
      expect(demoPod).toBeDefined();
      const read = await coreApi.readNamespacedPod({ name: demoPod!.metadata!.name!, namespace: DEMO_NAMESPACE });
      const owner = read.metadata?.ownerReferences?.[0]?.name ?? '';
      const rs = await kc.makeApiClient(AppsV1Api).readNamespacedReplicaSet({ name: owner, namespace: DEMO_NAMESPACE });
      expect(rs.metadata?.ownerReferences?.[0]?.kind).toBe('Deployment');
      // The informer the owner lookups read from: pods listed cluster-wide; ConfigMaps still not.
      expect((await coreApi.listPodForAllNamespaces({ limit: 1 })).items.length).toBeGreaterThan(0);
      await expect(coreApi.listNamespacedConfigMap({ namespace: DEMO_NAMESPACE })).rejects.toMatchObject({ code: 403 });
    });
  });
});
