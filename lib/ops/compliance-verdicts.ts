/**
 * The verdicts of the compliance checks and the helpers the checks build
 * them with.
 */
import type { RunningConfig } from './compliance-running.ts';
import type { TemplateView } from './compliance-template.ts';

/** PASS: met, with evidence; FAIL: not met; INFO: not checkable here. */
export type ComplianceStatus = 'PASS' | 'FAIL' | 'INFO';

/** A verdict and what it rests on. */
export interface Finding {
  readonly status: ComplianceStatus;
  readonly evidence: string;
}

/** What every check is given. */
export interface CheckInput {
  readonly view: TemplateView;
  /** The repository root, for code and documents. */
  readonly root: string;
  /** The queues and mappings as they run, when asked for. */
  readonly running?: RunningConfig;
}

/** One requirement and its check. */
export interface Requirement {
  /** R1 to R23. */
  readonly id: string;
  /** A few words that name the requirement. */
  readonly title: string;
  check(input: CheckInput): Finding;
}

export const pass = (evidence: string): Finding => ({
  status: 'PASS',
  evidence,
});
export const fail = (evidence: string): Finding => ({
  status: 'FAIL',
  evidence,
});
export const info = (evidence: string): Finding => ({
  status: 'INFO',
  evidence,
});

/** `[problem]` when `broken`, else none: problems spread into a list. */
export function when(broken: boolean, problem: string): string[] {
  return broken ? [problem] : [];
}

/** PASS when `problems` is empty, else FAIL naming them. */
export function passUnless(problems: readonly string[], evidence: string) {
  return problems.length === 0 ? pass(evidence) : fail(problems.join('; '));
}

/**
 * The template's finding joined with the running configuration's: FAIL
 * when either fails, INFO only when both are.
 */
export function combine(template: Finding, running?: Finding): Finding {
  if (!running) return template;
  const statuses = [template.status, running.status];
  const status: ComplianceStatus = statuses.includes('FAIL')
    ? 'FAIL'
    : statuses.includes('PASS')
      ? 'PASS'
      : 'INFO';
  return { status, evidence: `${template.evidence}; ${running.evidence}` };
}

/** The distinct values, listed: `a, b and c`. */
export function distinct(values: readonly unknown[]): string {
  return listed([...new Set(values.map(String))]);
}

/** `a, b and c` */
export function listed(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
