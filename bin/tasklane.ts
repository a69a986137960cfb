#!/usr/bin/env node
/**
 * The `tasklane` command line.
 *
 * @example
 * tasklane local              # the pipeline on emulators, with a demo
 * tasklane local --no-demo    # serve only, on http://127.0.0.1:4566
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { localCommand } from '../lib/cli/local-command.ts';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
);

const program = new Command('tasklane')
  .description('serverless pipeline for asynchronous tasks on AWS')
  .version(version)
  .addCommand(localCommand(version));

await program.parseAsync();
