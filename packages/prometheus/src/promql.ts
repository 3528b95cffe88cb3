import { promqlTemplate, targetRef, type PromqlTemplate, type TargetRef, type WorkloadKind } from '@cortexops/contracts';
import { InvalidLabelNameError, InvalidLabelValueError, InvalidMetricNameError, InvalidTargetError, UnsupportedTemplateError } from './errors.js';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** A UTF-16 surrogate that is not part of a pair: no UTF-8 encoding exists, so Prometheus cannot hold it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** RE2 metacharacters (what Go's regexp.QuoteMeta escapes). */
const RE2_META = /[\\.+*?()|[\]{}^$]/g;

/** The range of `increase()` in `workload-container-restarts`. */
export const RESTARTS_RANGE = '5m';

/**
 * The text between the double quotes of a PromQL string literal whose value is `value`: backslash and double quote
 * are escaped, newline, carriage return and tab become `\n`, `\r`, `\t`, every other control character (C0, DEL, C1)
 * and U+2028/U+2029 becomes `\uXXXX`. Everything else (printable unicode) stays as it is.
 * Throws `InvalidLabelValueError` for a lone surrogate (not valid UTF-8).
 */
export function escapeLabelValue(value: string, labelName = '(value)'): string {
  if (LONE_SURROGATE.test(value)) throw new InvalidLabelValueError('contains a lone UTF-16 surrogate (not valid UTF-8)', labelName);
  let out = '';
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

/** `value` as an RE2 pattern that matches exactly `value` (Go's regexp.QuoteMeta); still to be escaped as a string. */
export function escapeRegex(value: string): string {
  return value.replace(RE2_META, '\\$&');
}

/** Checks a label name against `[a-zA-Z_][a-zA-Z0-9_]*`; returns it. */
export function checkLabelName(name: string): string {
  if (!LABEL_NAME.test(name)) throw new InvalidLabelNameError(name);
  return name;
}

/** A label matcher: a string is an equality (`=`); `{ regex }` is `=~` with an RE2 pattern (build data into it with `escapeRegex`). */
export type LabelMatch = string | { readonly regex: string };

/**
 * A label selector `{name="value",...}` (in the order given): names checked, values escaped. The one place where
 * label matchers are written; every template goes through it.
 */
export function selector(labels: Readonly<Record<string, LabelMatch>>): string {
  const matchers = Object.entries(labels).map(([name, match]) => {
    checkLabelName(name);
    return typeof match === 'string' ? `${name}="${escapeLabelValue(match, name)}"` : `${name}=~"${escapeLabelValue(match.regex, name)}"`;
  });
  return `{${matchers.join(',')}}`;
}

/** `metric{...}`: the metric name checked against `[a-zA-Z_:][a-zA-Z0-9_:]*`, the selector as `selector()` writes it. */
export function series(metric: string, labels: Readonly<Record<string, LabelMatch>>): string {
  if (!METRIC_NAME.test(metric)) throw new InvalidMetricNameError(metric);
  return `${metric}${selector(labels)}`;
}

/**
 * Pods of a workload by name (kube-state-metrics has no owner label on the restart counter):
 * a StatefulSet's pods are `<name>-<ordinal>`; a Deployment's are `<name>-<pod-template-hash>-<suffix>`. Kubernetes
 * cuts a generated name's base at 58 characters, so past a 46-character Deployment name the hash may be cut off: then
 * the pattern is the (cut) prefix followed by anything, which may also match a sibling whose name extends it.
 */
export function workloadPodPattern(kind: 'Deployment' | 'StatefulSet', name: string): string {
  if (kind === 'StatefulSet') return `${escapeRegex(name)}-[0-9]+`;
  if (name.length <= 46) return `${escapeRegex(name)}-[a-z0-9]+-[a-z0-9]+`;
  return `${escapeRegex(`${name}-`.slice(0, 58))}.*`;
}

const WORKLOAD_METRICS = {
  Deployment: { label: 'deployment', available: 'kube_deployment_status_replicas_available', desired: 'kube_deployment_spec_replicas' },
  StatefulSet: { label: 'statefulset', available: 'kube_statefulset_status_replicas_ready', desired: 'kube_statefulset_replicas' },
} as const;

type Workload = TargetRef & { kind: 'Deployment' | 'StatefulSet'; namespace: string };

function workload(target: TargetRef): Workload {
  if (target.namespace === undefined) throw new InvalidTargetError(`a ${target.kind} needs a namespace`);
  return target as Workload;
}

/**
 * Each template: the kinds it applies to and its query. Aggregations are `max by` the object's labels so that the
 * same series scraped twice (two kube-state-metrics replicas) still gives one sample.
 */
const TEMPLATES = {
  'workload-available-ratio': {
    kinds: ['Deployment', 'StatefulSet'],
    render(target: TargetRef): string {
      const w = workload(target);
      const m = WORKLOAD_METRICS[w.kind];
      const labels = { namespace: w.namespace, [m.label]: w.name };
      const by = `max by (namespace, ${m.label})`;
      return `${by} (${series(m.available, labels)}) / ${by} (${series(m.desired, labels)})`;
    },
  },
  'workload-container-restarts': {
    kinds: ['Deployment', 'StatefulSet'],
    render(target: TargetRef): string {
      const w = workload(target);
      const selected = { namespace: w.namespace, pod: { regex: workloadPodPattern(w.kind, w.name) } };
      const restarts = series('kube_pod_container_status_restarts_total', selected);
      // Only pods that exist now: after a rollout the replaced pods' restarts (the problem being fixed) stay inside
      // the range for minutes and would fail the verification of a change that worked.
      const current = series('kube_pod_info', selected);
      return `sum(max by (namespace, pod, container) (increase(${restarts}[${RESTARTS_RANGE}])) and on (namespace, pod) ${current})`;
    },
  },
  'node-ready': {
    kinds: ['Node'],
    render(target: TargetRef): string {
      return `max by (node) (${series('kube_node_status_condition', { node: target.name, condition: 'Ready', status: 'true' })})`;
    },
  },
} as const satisfies Record<PromqlTemplate, { kinds: readonly WorkloadKind[]; render(target: TargetRef): string }>;

/**
 * The query of `template` for `target`, over kube-state-metrics series as kube-prometheus scrapes them. The target is
 * validated with the contracts schema first (`InvalidTargetError`); a template that does not apply to the target's
 * kind throws `UnsupportedTemplateError`. Deterministic: the same template and target always give the same text.
 */
export function renderPromql(template: PromqlTemplate, target: TargetRef): string {
  const parsedTarget = targetRef.safeParse(target);
  if (!parsedTarget.success) {
    throw new InvalidTargetError(parsedTarget.error.issues.map((i) => `${i.path.join('.') || '(target)'} ${i.message}`).join('; '));
  }
  const parsedTemplate = promqlTemplate.safeParse(template);
  if (!parsedTemplate.success) throw new UnsupportedTemplateError(String(template), parsedTarget.data.kind, []);
  const t = TEMPLATES[parsedTemplate.data];
  const kinds: readonly WorkloadKind[] = t.kinds;
  if (!kinds.includes(parsedTarget.data.kind)) throw new UnsupportedTemplateError(parsedTemplate.data, parsedTarget.data.kind, kinds);
  return t.render(parsedTarget.data);
}
