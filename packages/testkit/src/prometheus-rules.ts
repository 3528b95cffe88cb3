import { parseAllDocuments, stringify } from 'yaml';

/** A rule of a Prometheus rule group (alerting or recording), as the rule file and the PrometheusRule CR spell it. */
interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: readonly Rule[];
}

export interface RuleFileOptions {
  /** The groups to keep, by name (every one must exist in the manifests). */
  readonly groups: readonly string[];
  /** Replaces every non-zero `for:` (a test cannot wait 15 minutes); `0s` and an absent `for:` stay. */
  readonly forDuration: string;
}

export class PrometheusRuleError extends Error {
  override readonly name = 'PrometheusRuleError';
}

function isRuleGroup(value: unknown): value is RuleGroup {
  const group = value as Partial<RuleGroup> | null;
  return typeof group?.name === 'string' && Array.isArray(group.rules) && group.rules.every((r: Partial<Rule>) => typeof r.expr === 'string' && (typeof r.alert === 'string' || typeof r.record === 'string'));
}

/** The rule groups of prometheus-operator `PrometheusRule` manifests (YAML, one or more documents each). */
export function prometheusRuleGroups(manifests: readonly string[]): RuleGroup[] {
  const groups: RuleGroup[] = [];
  for (const manifest of manifests) {
    const documents = parseAllDocuments(manifest);
    if (documents.length === 0) throw new PrometheusRuleError('empty manifest: no PrometheusRule');
    for (const document of documents) {
      if (document.errors.length > 0) throw new PrometheusRuleError(`not YAML: ${document.errors[0]!.message}`);
      const cr = document.toJS() as { kind?: unknown; metadata?: { name?: unknown }; spec?: { groups?: unknown } } | null;
      if (cr?.kind !== 'PrometheusRule') throw new PrometheusRuleError(`not a PrometheusRule: kind ${String(cr?.kind)}`);
      const found = cr.spec?.groups;
      if (!Array.isArray(found) || !found.every(isRuleGroup)) throw new PrometheusRuleError(`PrometheusRule ${String(cr.metadata?.name)}: spec.groups is not a list of rule groups`);
      groups.push(...found);
    }
  }
  return groups;
}

/**
 * A plain Prometheus rule file (what `rule_files` reads) from the rendered `PrometheusRule` manifests that
 * kube-prometheus publishes: the named groups, every expression, label and annotation verbatim, only `for:` shortened.
 */
export function ruleFileFromPrometheusRules(manifests: readonly string[], options: RuleFileOptions): string {
  const all = prometheusRuleGroups(manifests);
  const groups = options.groups.map((name) => {
    const group = all.find((g) => g.name === name);
    if (!group) throw new PrometheusRuleError(`no rule group ${name} in the manifests (groups: ${all.map((g) => g.name).join(', ')})`);
    return { ...group, rules: group.rules.map((rule) => (rule.for === undefined || /^0+[smhdwy]?$/.test(rule.for) ? rule : { ...rule, for: options.forDuration })) };
  });
  // Expressions are block scalars in the manifests; `lineWidth: 0` keeps every line as it was.
  return stringify({ groups }, { lineWidth: 0 });
}
