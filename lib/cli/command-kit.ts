import { Command, type CommanderError, InvalidArgumentError } from 'commander';
import {
  TasklaneError,
  UnknownTaskTypeError,
  ValidationError,
} from '../errors.ts';
import type { ClientFactory } from './target.ts';

/** Exit codes of the operations commands. */
export const EXIT = {
  ok: 0,
  /** The command could not do its work: an AWS or emulator error, say. */
  failure: 1,
  /** Bad usage or invalid input: nothing was done. */
  usage: 2,
  /** The command worked, and a checked threshold is breached. */
  breached: 3,
} as const;

/** Help text every operations command ends with. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  done
  1  operational failure (AWS or emulator error, queue full, not found)
  2  usage error or invalid input; nothing was done
  3  a checked threshold is breached (stats)`;

/** Where a command writes and how it ends; tests pass their own. */
export interface CliIo {
  /** Writes to standard output. */
  out(text: string): void;
  /** Writes to standard error. */
  err(text: string): void;
  /** True when standard error is a terminal: progress bars may show. */
  readonly interactive: boolean;
  /** Records the exit code of a command that ran to its end. */
  done(code: number): void;
  /** Ends at once with a code: commander's usage errors and `--help`. */
  abort(code: number): never;
}

/** What a command factory may be given; tests pass both. */
export interface CommandDeps {
  /** @default the process's streams and exit */
  readonly io?: CliIo;
  /** @default clients for the endpoint, or for AWS */
  readonly clients?: ClientFactory;
}

/** The process's own streams and exit. */
export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  interactive: process.stderr.isTTY === true,
  done(code) {
    process.exitCode = code;
  },
  abort: (code) => process.exit(code),
};

/** A command found its input unusable: exit code 2. */
export class UsageError extends TasklaneError {
  constructor(message: string, options?: ErrorOptions) {
    super('USAGE', message, options);
  }
}

/**
 * A command of the operations CLI: writes through `io`, ends commander's
 * usage errors with exit code 2 (commander's own is 1), and lists the exit
 * codes in its help.
 */
export function opsCommand(name: string, io: CliIo): Command {
  return new Command(name)
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
    })
    .exitOverride((error) => io.abort(usageExitCode(error)))
    .addHelpText('after', EXIT_CODES_HELP);
}

function usageExitCode(error: CommanderError): number {
  return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
}

/**
 * Wraps a command's work: its result is the exit code; an error is written
 * to standard error and ends the command with 2 when the input was at
 * fault, else 1.
 */
export function runWith(
  io: CliIo,
  work: (command: Command) => Promise<number>,
): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    const command = args.at(-1) as Command;
    try {
      io.done(await work(command));
    } catch (error) {
      io.err(`${commandPath(command)}: ${messageOf(error)}\n`);
      io.done(exitCodeOf(error));
    }
  };
}

/** `tasklane dlq show`: the names from the root command down. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) {
    names.unshift(c.name());
  }
  if (names[0] !== 'tasklane') names.unshift('tasklane');
  return names.join(' ');
}

/** 2 for errors of the caller's input, 1 for everything else. */
export function exitCodeOf(error: unknown): number {
  const usage =
    error instanceof UsageError ||
    error instanceof ValidationError ||
    error instanceof UnknownTaskTypeError ||
    error instanceof InvalidArgumentError;
  return usage ? EXIT.usage : EXIT.failure;
}

function messageOf(error: unknown): string {
  if (error instanceof UsageError) return error.message;
  if (error instanceof TasklaneError) return `${error.code}: ${error.message}`;
  if (!(error instanceof Error)) return String(error);
  // SDK errors are named after the AWS error code: keep it in view.
  const named = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
  return `${named}${error.message}`;
}

/** Parses a whole number of `min` or more, for commander options. */
export function wholeNumber(min: number) {
  return (value: string): number => {
    const number = value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isSafeInteger(number) || number < min) {
      throw new InvalidArgumentError(
        `must be a whole number of ${min} or more (got ${value})`,
      );
    }
    return number;
  };
}

/** Writes one JSON document, for `--json`. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}
