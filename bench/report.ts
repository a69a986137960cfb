import { writeFile } from 'node:fs/promises';
import type { ConsumerBundleResult } from './consumer-bundle.ts';
import type { ConsumerCpuResult } from './consumer-cpu.ts';
import type { Machine } from './machine.ts';
import type { ThroughputResult } from './pipeline-throughput.ts';
import { round } from './stats.ts';

type Row = readonly (string | number)[];

/** A figure of the summary: tasklane's value, the baseline's, the ratio. */
export interface SummaryRow {
  readonly figure: string;
  readonly tasklane: number;
  readonly baseline: number;
  readonly ratio: number;
}

/** Prints a titled table with left-aligned text and right-aligned numbers. */
export function printTable(title: string, header: Row, rows: Row[]): void {
  const cells = [header, ...rows].map((row) => row.map(cellText));
  const widths = header.map((_, column) =>
    Math.max(...cells.map((row) => row[column]?.length ?? 0)),
  );
  const line = (row: Row, texts: string[]) =>
    texts
      .map((text, column) => {
        const width = widths[column] ?? 0;
        const numeric = typeof row[column] === 'number';
        return numeric ? text.padStart(width) : text.padEnd(width);
      })
      .join('  ');
  console.log(`\n${title}`);
  console.log(line(header, cells[0] ?? []));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  rows.forEach((row, index) => {
    console.log(line(row, cells[index + 1] ?? []));
  });
}

/** Counts print whole; measured fractions to 4 significant digits. */
function cellText(cell: string | number): string {
  if (typeof cell === 'string') return cell;
  return String(Number.isInteger(cell) ? cell : round(cell, 4));
}

export function printMachine(machine: Machine, load: number[]): void {
  printTable(
    'Machine',
    ['what', 'value'],
    [
      ['CPU', machine.cpuModel],
      ['cores', String(machine.cores)],
      ['memory GiB', String(machine.memoryGiB)],
      ['OS', machine.os],
      ['Node.js', machine.node],
      ['load average 1/5/15 min', load.join(' / ')],
    ],
  );
}

export function printConsumerCpu(result: ConsumerCpuResult): void {
  const row = (name: string, sample: ConsumerCpuResult['stock']): Row => [
    name,
    sample.medianCpuUs,
    sample.medianWallUs,
    sample.medianEmulatorCpuUs,
    sample.dynamodbRequests,
    sample.stdoutWrites,
    sample.cpuUsPerRound.map((us) => round(us)).join(', '),
  ];
  printTable(
    `1. Consumer CPU time per record: median of ${result.rounds} rounds ` +
      `of ${result.records} records in batches of ${result.batchSize}; ` +
      'dynalite runs in a child process, its CPU time apart',
    [
      'consumer',
      'CPU µs',
      'wall µs',
      'dynalite CPU µs',
      'DynamoDB requests',
      'stdout lines',
      'CPU µs by round',
    ],
    [
      row('tasklane', result.tasklane),
      row('stock Powertools recipe', result.stock),
      ['ratio tasklane / stock', result.ratio, '', '', '', '', ''],
    ],
  );
}

export function printThroughput(result: ThroughputResult): void {
  printTable(
    `2. Local throughput: median of ${result.rounds} runs of ` +
      `${result.tasks} messages, ${result.workers} receive loops of ` +
      `${result.batchSize}, ${result.senders} send batches in flight`,
    ['run', 'per second', 'CPU busy'],
    [
      ['raw send', result.rawSend, ''],
      ['raw receive + delete', result.rawDrain, result.cpuBusy.rawDrain],
      ['raw send, then receive + delete', result.rawSequential, ''],
      [
        'raw receive + delete while sending',
        result.rawOverlapped,
        result.cpuBusy.rawOverlapped,
      ],
      [
        'pipeline, send to final status',
        result.pipeline,
        result.cpuBusy.pipeline,
      ],
      ['ratio pipeline / best raw', result.ratio, ''],
    ],
  );
}

export function printBundle(result: ConsumerBundleResult): void {
  const { tasklane, stock, ratios } = result;
  printTable(
    `3. Consumer bundle: size, and median import time of ${result.loads} ` +
      'fresh processes each',
    ['bundle', 'bytes', 'gzip bytes', 'load ms'],
    [
      ['tasklane', tasklane.bytes, tasklane.gzipBytes, tasklane.medianLoadMs],
      [
        'stock Powertools recipe',
        stock.bytes,
        stock.gzipBytes,
        stock.medianLoadMs,
      ],
      ['ratio tasklane / stock', ratios.bytes, ratios.gzipBytes, ratios.loadMs],
    ],
  );
  printTable(
    'Packages whose share of the bundle differs (bytes)',
    ['package', 'tasklane', 'stock'],
    result.differences.map((row) => [row.name, row.tasklane, row.stock]),
  );
}

/** Every ratio of the run, with the two figures it divides. */
export function summaryOf(results: {
  cpu: ConsumerCpuResult;
  throughput: ThroughputResult;
  bundle: ConsumerBundleResult;
}): SummaryRow[] {
  const { cpu, throughput, bundle } = results;
  const pair = (figure: string, tasklane: number, baseline: number) => ({
    figure,
    tasklane,
    baseline,
    ratio: tasklane / baseline,
  });
  return [
    pair(
      'consumer CPU µs per record',
      cpu.tasklane.medianCpuUs,
      cpu.stock.medianCpuUs,
    ),
    pair('local tasks per second', throughput.pipeline, throughput.ceiling),
    pair('bundle bytes', bundle.tasklane.bytes, bundle.stock.bytes),
    pair(
      'bundle gzip bytes',
      bundle.tasklane.gzipBytes,
      bundle.stock.gzipBytes,
    ),
    pair(
      'module load ms',
      bundle.tasklane.medianLoadMs,
      bundle.stock.medianLoadMs,
    ),
  ];
}

export function printSummary(rows: readonly SummaryRow[]): void {
  printTable(
    'Summary: tasklane against its baseline, measured in this run',
    ['figure', 'tasklane', 'baseline', 'ratio'],
    rows.map((row) => [row.figure, row.tasklane, row.baseline, row.ratio]),
  );
}

/** Writes the results as JSON, fractions cut to 4 significant digits. */
export async function writeResults(path: string, data: unknown): Promise<void> {
  const text = JSON.stringify(
    data,
    (_, value) =>
      typeof value === 'number' && !Number.isInteger(value)
        ? round(value, 4)
        : value,
    2,
  );
  await writeFile(path, `${text}\n`);
}
