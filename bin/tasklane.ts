#!/usr/bin/env node
/**
 * The `tasklane` command line.
 *
 * @example
 * tasklane local              # the pipeline on emulators, with a demo
 * tasklane local --no-demo    # serve only, on http://127.0.0.1:4566
 * tasklane stats --endpoint http://127.0.0.1:4566
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { dlqCommand } from '../lib/cli/dlq-command.ts';
import { loadtestCommand } from '../lib/cli/loadtest-command.ts';
import { localCommand } from '../lib/cli/local-command.ts';
import { scaleCommand } from '../lib/cli/scale-command.ts';
import { sendCommand } from '../lib/cli/send-command.ts';
import { statsCommand } from '../lib/cli/stats-command.ts';
import { throttleCommand } from '../lib/cli/throttle-command.ts';
import { verifyCommand } from '../lib/cli/verify-command.ts';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
);

const program = new Command('tasklane')
  .description('serverless pipeline for asynchronous tasks on AWS')
  .version(version)
  .addCommand(localCommand(version))
  .addCommand(sendCommand())
  .addCommand(statsCommand())
  .addCommand(dlqCommand())
  .addCommand(scaleCommand())
  .addCommand(throttleCommand())
  .addCommand(verifyCommand());

program.addCommand(loadtestCommand());

await program.parseAsync();
