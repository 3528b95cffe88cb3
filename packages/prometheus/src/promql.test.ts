import { PROMQL_TEMPLATES, type PromqlTemplate, type TargetRef } from '@cortexops/contracts';
import { describe, expect, it } from 'vitest';
import { HOSTILE_VALUES } from '../test/hostile-values.js';
import { InvalidLabelNameError, InvalidLabelValueError, InvalidMetricNameError, InvalidTargetError, UnsupportedTemplateError } from './errors.js';
import { escapeLabelValue, escapeRegex, renderPromql, selector, series, workloadPodPattern } from './promql.js';

/** Reads a PromQL double-quoted string body back the way Go's strconv.Unquote does (for the escapes we emit). */
function unquote(body: string): string {
  return body.replace(/\\(u[0-9a-f]{4}|.)/g, (_, e: string) => {
    if (e.startsWith('u') && e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ n: '\n', r: '\r', t: '\t', '\\': '\\', '"': '"' } as Record<string, string>)[e] ?? `<bad escape ${e}>`;
  });
}

/** Splits `{a="x",b=~"y"}` into its matchers, honouring escapes: proves the value cannot leave its quotes. */
function parseSelector(text: string): { name: string; op: string; value: string }[] {
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)(=~|=)"((?:[^"\\\n]|\\.)*)"(,|\})/gy;
  expect(text.startsWith('{')).toBe(true);
  re.lastIndex = 1;
  const out: { name: string; op: string; value: string }[] = [];
  for (;;) {
    const m = re.exec(text);
    expect(m, `selector does not parse at ${re.lastIndex}: ${text}`).not.toBeNull();
    out.push({ name: m![1]!, op: m![2]!, value: unquote(m![3]!) });
    if (m![4] === '}') break;
  }
  expect(re.lastIndex).toBe(text.length);
  return out;
}

const HOSTILE = [...HOSTILE_VALUES, ''];

describe('escapeLabelValue — hostile values stay one label value', () => {
  it.each(HOSTILE)('round-trips %j', (value) => {
    const text = selector({ job: value });
    expect(parseSelector(text)).toEqual([{ name: 'job', op: '=', value }]);
    expect(text).not.toContain('\n');
  });

  it('escapes backslash, quote and control characters, keeps printable unicode', () => {
    expect(escapeLabelValue('a"b\\c\nd\re\tf')).toBe('a\\"b\\\\c\\nd\\re\\tf');
    expect(escapeLabelValue('\u0001\u007f\u2028')).toBe('\\u0001\\u007f\\u2028');
    expect(escapeLabelValue('日本 😀')).toBe('日本 😀');
  });

  it('refuses a lone surrogate, which has no UTF-8 form', () => {
    expect(() => escapeLabelValue('a\uD800b', 'pod')).toThrow(InvalidLabelValueError);
    expect(() => escapeLabelValue('\uDC00')).toThrow(InvalidLabelValueError);
    expect(escapeLabelValue('\uD83D\uDE00')).toBe('😀');
  });
});

describe('escapeRegex — RE2 metacharacters', () => {
  it('escapes every metacharacter QuoteMeta escapes', () => {
    expect(escapeRegex('a.b*c+d?e(f)g|h[i]j{k}l^m$n\\o')).toBe('a\\.b\\*c\\+d\\?e\\(f\\)g\\|h\\[i\\]j\\{k\\}l\\^m\\$n\\\\o');
    expect(escapeRegex('plain-name_1')).toBe('plain-name_1');
  });

  it('a regex built from data is escaped for RE2, then for the string', () => {
    const text = selector({ pod: { regex: `${escapeRegex('a.b"c\\')}-.*` } });
    expect(text).toBe('{pod=~"a\\\\.b\\"c\\\\\\\\-.*"}');
    expect(parseSelector(text)).toEqual([{ name: 'pod', op: '=~', value: 'a\\.b"c\\\\-.*' }]);
  });
});

describe('selector — label names checked', () => {
  it.each(['', '1abc', 'a-b', 'a b', 'job"}', 'é', 'a{', '__name__ '])('refuses label name %j', (name) => {
    expect(() => selector({ [name]: 'x' })).toThrow(InvalidLabelNameError);
  });

  it('accepts names of [a-zA-Z_][a-zA-Z0-9_]* and keeps their order', () => {
    expect(selector({ _a: '1', Z9: '2', __name__: 'up' })).toBe('{_a="1",Z9="2",__name__="up"}');
  });

  it('checks the metric name', () => {
    expect(series('kube:ratio_1', { a: 'b' })).toBe('kube:ratio_1{a="b"}');
    expect(() => series('up or vector(1)', {})).toThrow(InvalidMetricNameError);
  });
});

const deployment: TargetRef = { kind: 'Deployment', namespace: 'shop', name: 'web' };
const statefulSet: TargetRef = { kind: 'StatefulSet', namespace: 'data', name: 'db' };
const node: TargetRef = { kind: 'Node', name: 'worker-1' };

describe('renderPromql — the templates', () => {
  it('workload-available-ratio of a Deployment', () => {
    expect(renderPromql('workload-available-ratio', deployment)).toBe(
      'max by (namespace, deployment) (kube_deployment_status_replicas_available{namespace="shop",deployment="web"})' +
        ' / max by (namespace, deployment) (kube_deployment_spec_replicas{namespace="shop",deployment="web"})',
    );
  });

  it('workload-available-ratio of a StatefulSet', () => {
    expect(renderPromql('workload-available-ratio', statefulSet)).toBe(
      'max by (namespace, statefulset) (kube_statefulset_status_replicas_ready{namespace="data",statefulset="db"})' +
        ' / max by (namespace, statefulset) (kube_statefulset_replicas{namespace="data",statefulset="db"})',
    );
  });

  it('workload-container-restarts of a Deployment and of a StatefulSet', () => {
    expect(renderPromql('workload-container-restarts', deployment)).toBe(
      'sum(max by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{namespace="shop",pod=~"web-[a-z0-9]+-[a-z0-9]+"}[5m])) and on (namespace, pod) kube_pod_info{namespace="shop",pod=~"web-[a-z0-9]+-[a-z0-9]+"})',
    );
    expect(renderPromql('workload-container-restarts', statefulSet)).toBe(
      'sum(max by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{namespace="data",pod=~"db-[0-9]+"}[5m])) and on (namespace, pod) kube_pod_info{namespace="data",pod=~"db-[0-9]+"})',
    );
  });

  it('node-ready', () => {
    expect(renderPromql('node-ready', node)).toBe('max by (node) (kube_node_status_condition{node="worker-1",condition="Ready",status="true"})');
  });

  it('a dot in a name is a regex metacharacter: escaped for RE2, then for PromQL', () => {
    const query = renderPromql('workload-container-restarts', { kind: 'Deployment', namespace: 'shop', name: 'web.v2' });
    expect(query).toContain('pod=~"web\\\\.v2-[a-z0-9]+-[a-z0-9]+"');
    expect(renderPromql('workload-available-ratio', { kind: 'Deployment', namespace: 'shop', name: 'web.v2' })).toContain('deployment="web.v2"');
  });

  it('is deterministic', () => {
    for (const template of PROMQL_TEMPLATES) {
      const target = template === 'node-ready' ? node : deployment;
      expect(renderPromql(template, { ...target })).toBe(renderPromql(template, target));
    }
  });
});

describe('renderPromql — refusals', () => {
  it.each([
    ['workload-available-ratio', node],
    ['workload-available-ratio', { kind: 'Pod', namespace: 'shop', name: 'web-1' }],
    ['workload-container-restarts', { kind: 'DaemonSet', namespace: 'kube-system', name: 'agent' }],
    ['node-ready', deployment],
  ] as [PromqlTemplate, TargetRef][])('%s of %o throws UnsupportedTemplateError', (template, target) => {
    expect(() => renderPromql(template, target)).toThrow(UnsupportedTemplateError);
  });

  it('an unknown template is refused by name', () => {
    expect(() => renderPromql('up-or-vector' as PromqlTemplate, deployment)).toThrow(/unknown template "up-or-vector"/);
  });

  it.each([
    { kind: 'Deployment', namespace: 'shop', name: 'web"} or vector(1) #' },
    { kind: 'Deployment', namespace: 'Shop', name: 'web' },
    { kind: 'Deployment', namespace: 'shop\n', name: 'web' },
    { kind: 'Deployment', namespace: 'shop', name: 'web\\' },
    { kind: 'Deployment', namespace: 'shop', name: 'web.*' },
    { kind: 'Node', name: 'n}' },
    { kind: 'Cluster', name: 'x' },
  ] as TargetRef[])('a target the contracts refuse (%o) is refused before rendering', (target) => {
    expect(() => renderPromql('workload-available-ratio', target)).toThrow(InvalidTargetError);
  });

  it('a workload without a namespace is refused', () => {
    expect(() => renderPromql('workload-available-ratio', { kind: 'Deployment', name: 'web' })).toThrow(/Deployment needs a namespace/);
  });
});

describe('workloadPodPattern — pods by name', () => {
  const matches = (pattern: string, pod: string) => new RegExp(`^(?:${pattern})$`).test(pod);

  it('a Deployment matches its own pods, not a sibling whose name extends it', () => {
    const p = workloadPodPattern('Deployment', 'web');
    expect(matches(p, 'web-7d4b9c8f5d-x2x9z')).toBe(true);
    expect(matches(p, 'web-api-7d4b9c8f5d-x2x9z')).toBe(false);
    expect(matches(p, 'web')).toBe(false);
  });

  it('a StatefulSet matches <name>-<ordinal> only', () => {
    const p = workloadPodPattern('StatefulSet', 'db');
    expect(matches(p, 'db-0')).toBe(true);
    expect(matches(p, 'db-12')).toBe(true);
    expect(matches(p, 'db-replica-0')).toBe(false);
  });

  it('past 46 characters a Deployment pod name may be cut: the pattern is the cut prefix', () => {
    const name = 'a'.repeat(50);
    const rs = `${name}-6b7c8d9f5b`;
    const pod = `${`${rs}-`.slice(0, 58)}x2x9z`;
    expect(matches(workloadPodPattern('Deployment', name), pod)).toBe(true);
    const long = 'b'.repeat(60);
    expect(matches(workloadPodPattern('Deployment', long), `${long.slice(0, 58)}x2x9z`)).toBe(true);
    const at46 = 'c'.repeat(46);
    expect(matches(workloadPodPattern('Deployment', at46), `${at46}-6b7c8d9f5b-x2x9z`)).toBe(true);
  });
});
