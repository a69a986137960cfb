/** How a column lines up its cells. */
export type Align = 'left' | 'right';

/** A column of a text table. */
export interface Column {
  readonly header: string;
  /** @default 'left' */
  readonly align?: Align;
}

/**
 * Renders rows as a text table, each column as wide as its widest cell,
 * two spaces apart, without trailing spaces.
 */
export function formatTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
): string {
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...rows.map((row) => cell(row, i).length)),
  );
  const line = (cells: readonly string[]) =>
    columns
      .map((column, i) => {
        const width = widths[i] ?? 0;
        const text = cell(cells, i);
        return column.align === 'right'
          ? text.padStart(width)
          : text.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const header = line(columns.map((column) => column.header));
  return [header, ...rows.map(line)].join('\n');
}

function cell(row: readonly string[], index: number): string {
  return row[index] ?? '';
}

/**
 * A duration for people: `850 ms`, `12.5 s`, `4 min`, `3.2 h`; `-` when
 * unknown.
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** Counts items by a key, largest count first, then by key. */
export function countBy<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
): { key: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const item of items) {
    const key = keyOf(item);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}
