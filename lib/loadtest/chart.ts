/**
 * A load test's result as one self-contained HTML page: a summary table,
 * the send→done latency histogram and the sends and completions per
 * second, drawn as inline SVG with no external assets.
 */
import { describeTarget, latency } from './format.ts';
import { type LoadtestResult, R14_LATENCY_MS, type Verdict } from './result.ts';

const WIDTH = 720;
const HEIGHT = 260;
const MARGIN = { left: 56, right: 16, top: 28, bottom: 40 };

/** A vertical line on a chart, at `x` in the chart's own unit. */
interface Marker {
  readonly x: number;
  readonly label: string;
  readonly color: string;
}

/** One bar chart, with an optional line and markers over it. */
interface ChartSpec {
  readonly title: string;
  /** Width of one bar in the x unit: ms of a bin, or 1 s. */
  readonly step: number;
  readonly xUnit: string;
  readonly bars: readonly number[];
  readonly barLabel: string;
  readonly line?: readonly number[];
  readonly lineLabel?: string;
  readonly markers?: readonly Marker[];
}

/** The page for a result; open it in any browser, offline. */
export function renderHtml(result: LoadtestResult): string {
  const title = `tasklane loadtest ${result.startedAt}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:760px}
table{border-collapse:collapse;margin:12px 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
.pass{color:#176f2c;font-weight:bold}.fail{color:#b3261e;font-weight:bold}
svg{display:block;margin:16px 0;background:#fafafa}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(describeTarget(result.target))}: ${result.plan.rate} tasks/s for
${result.plan.durationSeconds} s, ${result.machine.cpus} CPUs.</p>
${summaryTable(result)}
${verdictTable(result.verdicts)}
${latencyChart(result)}
${rateChart(result)}
</body></html>
`;
}

function summaryTable(result: LoadtestResult): string {
  const { counts, latencyMs } = result;
  const rows: [string, string][] = [
    [
      'sent',
      `${counts.sent} (refused ${counts.refused}, rejected ${counts.rejected})`,
    ],
    ['achieved send rate', `${result.achievedRate} tasks/s`],
    ['throughput', `${result.throughput} completed/s`],
    ['peak throughput', `${result.peakThroughput} completed in one second`],
    ['drained after the last send', `${result.drainSeconds ?? '-'} s`],
    [
      'completed',
      `${counts.completed} (first attempt ${counts.completedFirstAttempt})`,
    ],
    ['dead-lettered', `${counts.deadLettered}`],
    ['missing', `${counts.missing}`],
    ['failure rate', `${(result.failureRate * 100).toFixed(2)} %`],
    ['latency, first attempt', latency(latencyMs.firstAttempt)],
    ['latency, all completed', latency(latencyMs.completed)],
  ];
  const body = rows
    .map(
      ([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`,
    )
    .join('\n');
  return `<table>\n${body}\n</table>`;
}

function verdictTable(verdicts: readonly Verdict[]): string {
  const body = verdicts
    .map((v) => {
      const verdict = v.pass ? 'pass' : 'fail';
      return (
        `<tr><th>${escapeHtml(v.id)}</th><td>${escapeHtml(v.requirement)}</td>` +
        `<td class="${verdict}">${verdict.toUpperCase()}</td>` +
        `<td>${escapeHtml(`${v.measured ?? 'none'} ${v.unit}`)}</td>` +
        `<td>${escapeHtml(v.note)}</td></tr>`
      );
    })
    .join('\n');
  return `<table>\n${body}\n</table>`;
}

function latencyChart(result: LoadtestResult): string {
  const { binMs, counts } = result.latencyHistogram;
  const { p50, p95, p99 } = result.latencyMs.firstAttempt;
  const markers = [
    { x: p50, label: 'p50', color: '#1f77b4' },
    { x: p95, label: 'p95', color: '#ff7f0e' },
    { x: p99, label: 'p99', color: '#d62728' },
    { x: R14_LATENCY_MS, label: 'R14 500 ms', color: '#555' },
  ].flatMap((m) => (m.x === null ? [] : [{ ...m, x: m.x }]));
  const chart = svgChart({
    title: 'send→done latency of first-attempt successes (tasks per bin)',
    step: binMs,
    xUnit: 'ms',
    bars: counts,
    barLabel: `tasks per ${binMs} ms`,
    markers,
  });
  const beyond = counts.length * binMs < R14_LATENCY_MS;
  const caption = beyond
    ? `<p>Every latency shown is below the R14 limit of ${R14_LATENCY_MS} ms, ` +
      'which lies beyond the right edge.</p>'
    : '';
  return `${chart}\n${caption}`;
}

function rateChart(result: LoadtestResult): string {
  return svgChart({
    title: 'tasks per second since the start',
    step: 1,
    xUnit: 's',
    bars: result.perSecond.completed,
    barLabel: 'completed',
    line: result.perSecond.sent,
    lineLabel: 'sent',
  });
}

/** A bar chart; markers beyond the last bar are left out. */
export function svgChart(spec: ChartSpec): string {
  const n = Math.max(spec.bars.length, spec.line?.length ?? 0, 1);
  const top = Math.max(1, ...spec.bars, ...(spec.line ?? []));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (i: number) => MARGIN.left + (i / n) * plotW;
  const y = (v: number) => MARGIN.top + plotH - (v / top) * plotH;
  const barW = Math.max(1, plotW / n - 1);
  const parts = [
    `<text x="${MARGIN.left}" y="18" font-weight="bold">${escapeHtml(spec.title)}</text>`,
    ...spec.bars.map(
      (v, i) =>
        `<rect x="${fix(x(i))}" y="${fix(y(v))}" width="${fix(barW)}" ` +
        `height="${fix(y(0) - y(v))}" fill="#6baed6"><title>` +
        `${i * spec.step}-${(i + 1) * spec.step} ${spec.xUnit}: ${v}</title></rect>`,
    ),
    lineOf(spec.line, (i) => x(i + 0.5), y),
    axes(spec, n, top, { x, y }),
    ...(spec.markers ?? [])
      .filter((m) => m.x <= n * spec.step)
      .map((m) => markerOf(m, x(m.x / spec.step))),
    legend(spec),
  ];
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" ` +
    `height="${HEIGHT}" font-size="11" role="img">\n${parts.join('\n')}\n</svg>`
  );
}

function lineOf(
  values: readonly number[] | undefined,
  x: (i: number) => number,
  y: (v: number) => number,
): string {
  if (!values || values.length === 0) return '';
  const points = values.map((v, i) => `${fix(x(i))},${fix(y(v))}`).join(' ');
  return `<polyline points="${points}" fill="none" stroke="#e6550d" stroke-width="2"/>`;
}

function axes(
  spec: ChartSpec,
  n: number,
  top: number,
  scale: { x: (i: number) => number; y: (v: number) => number },
): string {
  const bottom = scale.y(0);
  const ticks = new Set([0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * n)));
  const xTicks = [...ticks].map(
    (i) =>
      `<text x="${fix(scale.x(i))}" y="${fix(bottom + 16)}" ` +
      `text-anchor="middle">${i * spec.step}</text>`,
  );
  const yTicks = [0, top / 2, top].map(
    (v) =>
      `<text x="${MARGIN.left - 6}" y="${fix(scale.y(v) + 4)}" ` +
      `text-anchor="end">${Math.round(v)}</text>`,
  );
  return [
    `<line x1="${MARGIN.left}" y1="${fix(bottom)}" x2="${WIDTH - MARGIN.right}" y2="${fix(bottom)}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${fix(bottom)}" stroke="#333"/>`,
    ...xTicks,
    ...yTicks,
    `<text x="${WIDTH - MARGIN.right}" y="${HEIGHT - 4}" text-anchor="end">${escapeHtml(spec.xUnit)}</text>`,
  ].join('\n');
}

function markerOf(marker: Marker, px: number): string {
  const top = MARGIN.top;
  const bottom = HEIGHT - MARGIN.bottom;
  return (
    `<line x1="${fix(px)}" y1="${top}" x2="${fix(px)}" y2="${bottom}" ` +
    `stroke="${marker.color}" stroke-dasharray="4 3"/>` +
    `<text x="${fix(px + 3)}" y="${top + 10}" fill="${marker.color}">` +
    `${escapeHtml(marker.label)}</text>`
  );
}

function legend(spec: ChartSpec): string {
  const x = WIDTH - MARGIN.right - 160;
  const line = spec.lineLabel
    ? `<line x1="${x}" y1="34" x2="${x + 14}" y2="34" stroke="#e6550d" stroke-width="2"/>` +
      `<text x="${x + 18}" y="38">${escapeHtml(spec.lineLabel)}</text>`
    : '';
  return (
    `<rect x="${x}" y="42" width="14" height="8" fill="#6baed6"/>` +
    `<text x="${x + 18}" y="50">${escapeHtml(spec.barLabel)}</text>${line}`
  );
}

function fix(value: number): string {
  return value.toFixed(1);
}

/** Escapes text for HTML and SVG. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}
