import { describe, expect, it } from 'vitest';
import { dashboardQueries, metricFamily, PromqlSyntaxError, QueryFileError, ruleQueries, selectors, withGrafanaVariables } from './queries.js';

describe('grafana queries — reads panel targets and rule expressions, refuses malformed ones', () => {
  it('dashboard — collects every target, rows and nested panels included, named by file, panel and refId', () => {
    const dashboard = {
      panels: [
        { type: 'row', title: 'Row', panels: [{ type: 'stat', title: 'Nested', targets: [{ refId: 'A', expr: 'up' }] }] },
        { type: 'timeseries', title: 'Top', targets: [{ refId: 'A', expr: 'a' }, { refId: 'B', expr: 'b' }] },
      ],
    };
    expect(dashboardQueries(dashboard, 'd.json')).toEqual([
      { source: 'd.json › Nested › A', expr: 'up' },
      { source: 'd.json › Top › A', expr: 'a' },
      { source: 'd.json › Top › B', expr: 'b' },
    ]);
  });

  it.each([
    ['not an object', 'x', /not a dashboard/],
    ['no panels', {}, /not a dashboard/],
    ['a panel that is not an object', { panels: [3] }, /not an object/],
    ['a panel without targets', { panels: [{ type: 'stat', title: 'Empty', targets: [] }] }, /Empty: a panel without targets/],
    ['a target without an expression', { panels: [{ type: 'stat', title: 'P', targets: [{ refId: 'A', expr: ' ' }] }] }, /P: a target without an expression/],
  ])('dashboard — %s is refused', (_what, dashboard, message) => {
    expect(() => dashboardQueries(dashboard, 'd.json')).toThrow(QueryFileError);
    expect(() => dashboardQueries(dashboard, 'd.json')).toThrow(message);
  });

  it('rule file — collects alerting and recording rules by group', () => {
    const text = 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n      - record: r:sum\n        expr: sum(up)\n';
    expect(ruleQueries(text, 'r.yml')).toEqual([
      { source: 'r.yml › g › A', expr: 'up == 0' },
      { source: 'r.yml › g › r:sum', expr: 'sum(up)' },
    ]);
  });

  it.each([
    ['no groups', 'rules: []', /not a rule file/],
    ['a group without a name', 'groups:\n  - rules: []', /a group without a name/],
    ['a rule without an expression', 'groups:\n  - name: g\n    rules:\n      - alert: A', /g: a rule without a name or an expression/],
    ['a rule without a name', 'groups:\n  - name: g\n    rules:\n      - expr: up', /g: a rule without a name or an expression/],
  ])('rule file — %s is refused', (_what, text, message) => {
    expect(() => ruleQueries(text, 'r.yml')).toThrow(message);
  });

  it('Grafana variables — the built-in intervals are filled in; any other variable is an error', () => {
    expect(withGrafanaVariables('rate(x[$__rate_interval]) + increase(x[${__range}])')).toBe('rate(x[1m]) + increase(x[1h])');
    expect(() => withGrafanaVariables('x{namespace="$namespace"}')).toThrow(/unknown Grafana variable \$namespace/);
  });

  it('selectors — every vector selector with its metric, through functions, aggregations and binary operators', () => {
    expect(selectors('histogram_quantile(0.9, sum by (le) (rate(a_bucket{service="c"}[5m]))) / on() group_left max(b) > 0')).toEqual([
      { text: 'a_bucket{service="c"}', metric: 'a_bucket' },
      { text: 'b', metric: 'b' },
    ]);
    expect(metricFamily('a_bucket')).toBe('a');
    expect(metricFamily('a_seconds_count')).toBe('a_seconds');
    expect(metricFamily('cortexops_events_ingested_total')).toBe('cortexops_events_ingested_total');
  });

  it.each([
    ['an unclosed call', 'sum(rate(x[5m])'],
    ['a dangling operator', 'up +'],
    ['no selector at all', 'vector(1)'],
    ['a selector without a name', '{job="x"}'],
  ])('selectors — %s is refused', (_what, expr) => {
    expect(() => selectors(expr)).toThrow(PromqlSyntaxError);
  });
});
