/**
 * The compliance report of `tasklane verify`: each requirement of the
 * standard (R1-R23) checked against a synthesized template, the
 * repository's code and documents, and optionally the running
 * configuration, with the evidence for each verdict.
 *
 * @example
 * const results = runCompliance({ view: new TemplateView(template), root });
 * console.log(formatReport(results));
 * process.exitCode = complianceExitCode(results);
 */
import { fileURLToPath } from 'node:url';
import { FLOW_REQUIREMENTS } from './compliance-flow.ts';
import { OPERATIONS_REQUIREMENTS } from './compliance-operations.ts';
import { PLATFORM_REQUIREMENTS } from './compliance-platform.ts';
import { PROCESSING_REQUIREMENTS } from './compliance-processing.ts';
import type {
  CheckInput,
  ComplianceStatus,
  Finding,
  Requirement,
} from './compliance-verdicts.ts';

export type {
  CheckInput,
  ComplianceStatus,
  Finding,
  Requirement,
} from './compliance-verdicts.ts';

/** One requirement's line of the report. */
export interface ComplianceResult extends Finding {
  /** R1 to R23. */
  readonly id: string;
  readonly title: string;
}

/** What the checks look at; `root` defaults to this package. */
export type ComplianceInput = Omit<CheckInput, 'root'> & {
  readonly root?: string;
};

/** The exit code of `tasklane verify` when any requirement fails. */
export const EXIT_NONCOMPLIANT = 4;

/** This package's root, where the documents and ops files live. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every requirement, R1 to R23, in order. */
export const REQUIREMENTS: readonly Requirement[] = [
  ...FLOW_REQUIREMENTS,
  ...PROCESSING_REQUIREMENTS,
  ...PLATFORM_REQUIREMENTS,
  ...OPERATIONS_REQUIREMENTS,
];

/**
 * Runs every check; a check that throws fails its requirement with the
 * error as evidence, so one broken check never hides the others.
 */
export function runCompliance(
  input: ComplianceInput,
  requirements: readonly Requirement[] = REQUIREMENTS,
): ComplianceResult[] {
  const full = { ...input, root: input.root ?? PACKAGE_ROOT };
  return requirements.map(({ id, title, check }) => {
    try {
      return { id, title, ...check(full) };
    } catch (error) {
      const evidence = `the check could not run: ${(error as Error).message}`;
      return { id, title, status: 'FAIL', evidence };
    }
  });
}

/** 0 when nothing failed, else EXIT_NONCOMPLIANT. */
export function complianceExitCode(results: readonly ComplianceResult[]) {
  return results.some((r) => r.status === 'FAIL') ? EXIT_NONCOMPLIANT : 0;
}

/** Counts of each status. */
export function summarize(results: readonly ComplianceResult[]) {
  const count = (status: ComplianceStatus) =>
    results.filter((r) => r.status === status).length;
  return { pass: count('PASS'), fail: count('FAIL'), info: count('INFO') };
}

/**
 * The report as a table: requirement, status, evidence; the evidence is
 * wrapped under its own column so the table stays readable at `width`.
 */
export function formatReport(
  results: readonly ComplianceResult[],
  width = 100,
): string {
  const titleWidth = Math.max(...results.map((r) => r.title.length));
  const indent = 4 + 1 + 4 + 2 + titleWidth + 2;
  const row = (id: string, status: string, title: string) =>
    `${id.padEnd(4)} ${status.padEnd(4)}  ${title.padEnd(titleWidth)}  `;
  const header = `${row('req', 'stat', 'requirement')}evidence`;
  const lines = [header, '-'.repeat(Math.min(width, indent + 40))];
  for (const r of results) {
    const wrapped = wrap(r.evidence, Math.max(30, width - indent));
    lines.push(row(r.id, r.status, r.title) + (wrapped[0] ?? ''));
    for (const more of wrapped.slice(1)) lines.push(' '.repeat(indent) + more);
  }
  const { pass, fail, info } = summarize(results);
  lines.push('', `${pass} PASS, ${fail} FAIL, ${info} INFO`);
  return lines.join('\n');
}

/** Splits text at spaces into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}
