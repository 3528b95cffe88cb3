import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';

/** One PromQL expression of a dashboard panel or an alert rule, and where it comes from. */
export interface NamedQuery {
  /** `<file> › <panel title> › <refId>` or `<file> › <group> › <alert>`. */
  readonly source: string;
  readonly expr: string;
}

/** A vector selector of an expression (`name{matchers}`), as written. */
export interface Selector {
  readonly text: string;
  readonly metric: string;
}

export class QueryFileError extends Error {
  override readonly name = 'QueryFileError';
}

export class PromqlSyntaxError extends Error {
  override readonly name = 'PromqlSyntaxError';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every target expression of a Grafana dashboard's panels (rows' nested panels included). */
export function dashboardQueries(dashboard: unknown, file: string): NamedQuery[] {
  if (!isObject(dashboard) || !Array.isArray(dashboard.panels)) throw new QueryFileError(`${file}: not a dashboard (no panels list)`);
  const queries: NamedQuery[] = [];
  const visit = (panels: unknown[]): void => {
    for (const p of panels) {
      if (!isObject(p)) throw new QueryFileError(`${file}: a panel is not an object`);
      if (Array.isArray(p.panels)) visit(p.panels);
      if (p.type === 'row') continue;
      const title = typeof p.title === 'string' ? p.title : '(untitled)';
      if (!Array.isArray(p.targets) || p.targets.length === 0) throw new QueryFileError(`${file} › ${title}: a panel without targets`);
      for (const t of p.targets) {
        if (!isObject(t) || typeof t.expr !== 'string' || t.expr.trim() === '') throw new QueryFileError(`${file} › ${title}: a target without an expression`);
        queries.push({ source: `${file} › ${title} › ${String(t.refId)}`, expr: t.expr });
      }
    }
  };
  visit(dashboard.panels);
  return queries;
}

/** Every expression of a Prometheus rule file (alerting and recording rules). */
export function ruleQueries(text: string, file: string): NamedQuery[] {
  const doc: unknown = parseYaml(text);
  if (!isObject(doc) || !Array.isArray(doc.groups)) throw new QueryFileError(`${file}: not a rule file (no groups list)`);
  return doc.groups.flatMap((g: unknown) => {
    const group = isObject(g) && typeof g.name === 'string' && Array.isArray(g.rules) ? { name: g.name, rules: g.rules as unknown[] } : undefined;
    if (!group) throw new QueryFileError(`${file}: a group without a name or rules`);
    return group.rules.map((r) => {
      const name = isObject(r) ? (r.alert ?? r.record) : undefined;
      if (!isObject(r) || typeof name !== 'string' || typeof r.expr !== 'string') throw new QueryFileError(`${file} › ${group.name}: a rule without a name or an expression`);
      return { source: `${file} › ${group.name} › ${name}`, expr: r.expr };
    });
  });
}

/** What Grafana puts for its built-in interval variables when a 1-hour range is drawn from 5 s scrapes. */
const GRAFANA_VARIABLES: Readonly<Record<string, string>> = { __rate_interval: '1m', __interval: '15s', __range: '1h' };

/** The expression Grafana sends to Prometheus: its built-in variables filled in; any other variable is an error. */
export function withGrafanaVariables(expr: string): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const value = GRAFANA_VARIABLES[name];
    if (value === undefined) throw new PromqlSyntaxError(`unknown Grafana variable ${whole} in ${expr}`);
    return value;
  });
}

/** The vector selectors of an expression (Prometheus' own lezer grammar); a syntax error throws with its position. */
export function selectors(expr: string): Selector[] {
  const found: Selector[] = [];
  let error: number | undefined;
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) error ??= node.from;
      if (node.name !== 'VectorSelector') return;
      const text = expr.slice(node.from, node.to);
      const metric = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(text)?.[0];
      if (metric === undefined) throw new PromqlSyntaxError(`a selector without a metric name: ${text}`);
      found.push({ text, metric });
    },
  });
  if (error !== undefined) throw new PromqlSyntaxError(`PromQL syntax error at ${error}: ${expr.slice(0, error)} ⟨here⟩ ${expr.slice(error)}`);
  if (found.length === 0) throw new PromqlSyntaxError(`no metric selector in ${expr}`);
  return found;
}

/** The metric family a series name belongs to (histogram and summary series carry a suffix). */
export function metricFamily(metric: string): string {
  return metric.replace(/_(bucket|sum|count)$/, '');
}
