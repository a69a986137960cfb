/**
 * `npm run soak`: runs the soak and prints its counts, timings and checks;
 * the exit code is 1 when a check fails, 2 for a bad option.
 *
 * @example
 * npm run soak -- --tasks 10000 --restarts 3 --callback-interval 1s
 */
import { parseSoakArgs, SOAK_USAGE, SoakOptionError } from './options.ts';
import { formatReport } from './report.ts';
import { runSoak } from './soak.ts';

const print = (line: string) => console.log(line);

try {
  const report = await runSoak(parseSoakArgs(process.argv.slice(2)), print);
  for (const line of formatReport(report)) print(line);
  process.exitCode = report.passed ? 0 : 1;
} catch (error) {
  if (!(error instanceof SoakOptionError)) throw error;
  console.error(`${error.message}\n${SOAK_USAGE}`);
  process.exitCode = 2;
}
