import { describe, expect, it } from 'vitest';
import {
  metricNamesOf,
  parseExposition,
  ruleExpressions,
} from '../helpers/prometheus.ts';

describe('metricNamesOf', () => {
  it.each([
    ['tasklane_queue_messages > 8000', ['tasklane_queue_messages']],
    ['up{job="x"}', ['up']],
    ['rate(a_total[5m])', ['a_total']],
    [
      'histogram_quantile(0.99, sum by (task_type, le) (rate(h_bucket{task_type=~"$task_type"}[$__rate_interval])))',
      ['h_bucket'],
    ],
    [
      '100 * sum by (t) (rate(f_total[5m])) / (sum by (t) (rate(c_total[5m])) + sum by (t) (rate(f_total[5m]))) > 2',
      ['f_total', 'c_total'],
    ],
    ['60 * sum without (queue) (g)', ['g']],
    ['a and on (x) b offset 5m', ['a', 'b']],
    ['max(x{y="sum by (z) w"}) > 1e3', ['x']],
    ['foo', ['foo']],
  ])('finds the metrics of %s', (expr, names) => {
    expect([...metricNamesOf(expr)]).toEqual(names);
  });
});

describe('ruleExpressions', () => {
  it('reads one-line and block expressions', () => {
    // Prepare
    const yaml = [
      'groups:',
      '  - rules:',
      '      - alert: A',
      '        expr: a > 1',
      '        for: 1m',
      '      - alert: B',
      '        expr: |',
      '          sum(b)',
      '',
      '            > 2',
      '        labels: {}',
    ].join('\n');

    // Act
    const exprs = ruleExpressions(yaml);

    // Assess
    expect(exprs.map((e) => e.replace(/\s+/g, ' ').trim())).toEqual([
      'a > 1',
      'sum(b) > 2',
    ]);
  });
});

describe('parseExposition', () => {
  it('reads names, escaped labels and values, skipping comments', () => {
    // Prepare
    const text = [
      '# HELP a_total Some help',
      '# TYPE a_total counter',
      'a_total{k="v",q="say \\"hi\\"\\\\"} 3',
      'b 1.5e3',
      'c{le="+Inf"} +Inf',
      '',
    ].join('\n');

    // Act
    const samples = parseExposition(text);

    // Assess
    expect(samples).toEqual([
      { name: 'a_total', labels: { k: 'v', q: 'say "hi"\\' }, value: 3 },
      { name: 'b', labels: {}, value: 1_500 },
      { name: 'c', labels: { le: '+Inf' }, value: Infinity },
    ]);
  });

  it('throws on a line that is not a sample', () => {
    expect(() => parseExposition('a{b=c} 1')).toThrow(/bad labels/);
  });
});
