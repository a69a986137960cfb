import { readFileSync } from 'node:fs';

/** One sample line of Prometheus's text format. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"\s*,?/gy;

/** Parses the samples of an exposition; comments and blank lines skipped. */
export function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = SAMPLE_LINE.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const [, name = '', labels = '', value = ''] = match;
      return { name, labels: parseLabels(labels), value: numberOf(value) };
    });
}

/** A sample value: a float, or Prometheus's spelling of the infinities. */
function numberOf(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  let consumed = 0;
  for (let m = LABEL.exec(text); m; m = LABEL.exec(text)) {
    const [all, key = '', raw = ''] = m;
    labels[key] = raw.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    consumed += all.length;
  }
  if (consumed !== text.length) throw new Error(`bad labels: {${text}}`);
  return labels;
}

/** The value of the one sample with this name and these labels (a subset). */
export function sampleValue(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) {
    throw new Error(`${found.length} samples of ${name} match the labels`);
  }
  return found[0]?.value;
}

/**
 * Words of PromQL that are not metric names though a space may follow them:
 * the aggregation operators (`sum by (le) (...)`) and the keywords.
 */
const PROMQL_WORDS = new Set([
  ...['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count'],
  ...['count_values', 'bottomk', 'topk', 'quantile', 'limitk'],
  ...['limit_ratio', 'and', 'or', 'unless', 'by', 'without', 'on'],
  ...['ignoring', 'group_left', 'group_right', 'bool', 'offset', 'atan2'],
  ...['inf', 'nan'],
]);

/**
 * The metric names a PromQL expression reads: identifiers followed by a
 * label matcher `{`, a range `[`, a space, `)` or the end, once label
 * matchers, strings, grouping label lists and Grafana variables are taken
 * out; function calls (identifier then `(`) and keywords excluded.
 */
export function metricNamesOf(expr: string): Set<string> {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(
      /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g,
      '$1 ',
    )
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  const identifier = /(?<![\w.:])([a-zA-Z_:][\w:]*)(?=[\s{[)]|$)/g;
  const names = new Set<string>();
  for (const match of bare.matchAll(identifier)) {
    const [, name = ''] = match;
    const after = bare.slice((match.index ?? 0) + name.length).trimStart();
    if (after.startsWith('(') || PROMQL_WORDS.has(name.toLowerCase())) {
      continue;
    }
    names.add(name);
  }
  return names;
}

/**
 * The `expr:` of each rule in a rules file, on one line or as a block
 * (`expr: |`), read without a YAML parser: enough for alerts.yml's layout.
 */
export function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const exprs: string[] = [];
  lines.forEach((line, i) => {
    const match = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!match) return;
    const [, indent = '', rest = ''] = match;
    if (!/^[|>][-+]?$/.test(rest)) {
      exprs.push(rest);
      return;
    }
    const block: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() !== '' && indentOf(next) <= indent.length) break;
      block.push(next.trim());
    }
    exprs.push(block.join(' '));
  });
  return exprs;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** A panel of a Grafana dashboard, as far as the checks read it. */
interface Panel {
  readonly title?: string;
  readonly targets?: readonly { readonly expr?: string }[];
  readonly panels?: readonly Panel[];
}

/** A query of a Grafana dashboard with the panel it belongs to. */
export interface DashboardQuery {
  readonly panel: string;
  readonly expr: string;
}

/**
 * Every PromQL query of a Grafana dashboard file: the panels' targets,
 * those in rows too, and the metric of each `label_values()` variable.
 */
export function dashboardQueries(path: string): DashboardQuery[] {
  const dashboard = JSON.parse(readFileSync(path, 'utf8'));
  const walk = (panels: readonly Panel[]): DashboardQuery[] =>
    panels.flatMap((panel) => [
      ...(panel.targets ?? []).map((target) => ({
        panel: panel.title ?? '(untitled)',
        expr: target.expr ?? '',
      })),
      ...walk(panel.panels ?? []),
    ]);
  const variables = (dashboard.templating?.list ?? []).flatMap(
    (variable: { name: string; definition?: string }) => {
      const metric = /label_values\(\s*([\w:]+)\s*,/.exec(
        variable.definition ?? '',
      );
      return metric ? [{ panel: `$${variable.name}`, expr: metric[1] }] : [];
    },
  );
  return [...walk(dashboard.panels ?? []), ...variables];
}
