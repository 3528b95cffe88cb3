import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PrometheusRuleError, prometheusRuleGroups, ruleFileFromPrometheusRules } from './prometheus-rules.js';

const MANIFEST = `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: kubernetes-monitoring-rules
  namespace: monitoring
spec:
  groups:
  - name: kubernetes-apps
    rules:
    - alert: KubePodCrashLooping
      annotations:
        summary: Pod is crash looping.
      expr: |
        max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1
      for: 15m
      labels:
        severity: warning
    - alert: KubeNodeEviction
      expr: |
        sum(rate(kubelet_evictions{job="kubelet", metrics_path="/metrics"}[15m])) by(cluster, eviction_signal, instance)
        > 0
      for: 0s
      labels:
        severity: info
  - name: node.rules
    rules:
    - expr: |
        count by (cluster, node) (
          node_cpu_seconds_total{mode="idle",job="node-exporter"}
        )
      record: node:node_num_cpu:sum
`;

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string> }[] }[];
}

describe('prometheus rules — PrometheusRule manifests to a plain rule file', () => {
  it('rule file — keeps the named groups with expressions, labels and annotations verbatim; only a non-zero for: is shortened', () => {
    const file = parse(ruleFileFromPrometheusRules([MANIFEST], { groups: ['kubernetes-apps', 'node.rules'], forDuration: '2s' })) as RuleFile;
    const source = prometheusRuleGroups([MANIFEST]);
    expect(file.groups.map((g) => g.name)).toEqual(['kubernetes-apps', 'node.rules']);
    const [apps, node] = file.groups;
    expect(apps!.rules[0]).toEqual({ ...source[0]!.rules[0], for: '2s' });
    expect(apps!.rules[0]!.expr).toBe('max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1\n');
    // for: 0s fires at once already; a recording rule has no for:.
    expect(apps!.rules[1]).toEqual(source[0]!.rules[1]);
    expect(node!.rules[0]).toEqual(source[1]!.rules[0]);
    expect(node!.rules[0]).not.toHaveProperty('for');
  });

  it('rule file — only the groups asked for, in the order asked', () => {
    const file = parse(ruleFileFromPrometheusRules([MANIFEST], { groups: ['node.rules'], forDuration: '1s' })) as RuleFile;
    expect(file.groups.map((g) => g.name)).toEqual(['node.rules']);
  });

  it('bad input — a group missing from the manifests is named, with the groups there are', () => {
    expect(() => ruleFileFromPrometheusRules([MANIFEST], { groups: ['kubernetes-storage'], forDuration: '2s' })).toThrow(
      new PrometheusRuleError('no rule group kubernetes-storage in the manifests (groups: kubernetes-apps, node.rules)'),
    );
  });

  it('bad input — another kind, a malformed group list, or text that is no YAML is refused with the reason', () => {
    expect(() => prometheusRuleGroups(['apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n'])).toThrow('not a PrometheusRule: kind ConfigMap');
    expect(() => prometheusRuleGroups(['kind: PrometheusRule\nmetadata: {name: broken}\nspec:\n  groups:\n  - name: g\n    rules:\n    - alert: NoExpr\n'])).toThrow(
      'PrometheusRule broken: spec.groups is not a list of rule groups',
    );
    expect(() => prometheusRuleGroups(['kind: PrometheusRule\nspec: {groups: [\n'])).toThrow(/^not YAML: /);
    expect(() => prometheusRuleGroups([''])).toThrow('empty manifest: no PrometheusRule');
    expect(() => prometheusRuleGroups(['just text'])).toThrow('not a PrometheusRule: kind undefined');
  });
});
