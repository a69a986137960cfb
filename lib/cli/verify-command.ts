import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import {
  type ComplianceResult,
  complianceExitCode,
  EXIT_NONCOMPLIANT,
  formatReport,
  PACKAGE_ROOT,
  runCompliance,
  summarize,
} from '../ops/compliance.ts';
import {
  type RunningConfig,
  readRunningConfig,
} from '../ops/compliance-running.ts';
import { type CfnTemplate, TemplateView } from '../ops/compliance-template.ts';
import {
  type CliIo,
  opsCommand,
  printJson,
  processIo,
  runWith,
  UsageError,
} from './command-kit.ts';
import {
  addControlOption,
  type ControlDeps,
  type ControlOptions,
  controlUrlOf,
  usingControlClients,
} from './control-target.ts';
import { addTargetOptions, usingTarget } from './target.ts';

interface VerifyOptions extends ControlOptions {
  readonly template?: string;
  readonly context: Record<string, string>;
  readonly deployed: boolean;
}

/** Dependencies of `verify`; tests pass a template instead of synthesis. */
export interface VerifyDeps extends ControlDeps {
  /** @default synthesizeTemplate in this package */
  readonly synthesize?: (context: Record<string, string>) => CfnTemplate;
  /** Where the documents and ops files are. @default this package */
  readonly root?: string;
}

const EXAMPLES = `
Examples:
  tasklane verify                                  # synthesize, then check
  tasklane verify -c allowlistCidrs=203.0.113.0/24 # with deployment context
  tasklane verify --template cdk.out/Tasklane.template.json --json
  tasklane verify --endpoint http://127.0.0.1:4566 # and the local queues
  tasklane verify --deployed --region eu-west-1    # and the deployed stack

Each requirement R1-R23 gets PASS, FAIL or INFO (not checkable from
configuration) with its evidence.
Exit code ${EXIT_NONCOMPLIANT}: a requirement fails.`;

/** `tasklane verify`: the compliance report, R1 to R23. */
export function verifyCommand(deps: VerifyDeps = {}): Command {
  const io = deps.io ?? processIo;
  const command = opsCommand('verify', io)
    .description(
      'check the synthesized template, the code and documents, and ' +
        'optionally the running configuration against R1-R23',
    )
    .option('--template <path>', 'check this template instead of synthesizing')
    .option(
      '-c, --context <key=value>',
      'cdk context for synthesis, as cdk -c (repeatable)',
      contextPair,
      {},
    )
    .option(
      '--deployed',
      'also read the deployed queues and mappings on AWS',
      false,
    )
    .addHelpText('after', EXAMPLES);
  return addControlOption(addTargetOptions(command)).action(
    runWith(io, (cmd) => runVerify(cmd.opts<VerifyOptions>(), io, deps)),
  );
}

function contextPair(
  value: string,
  previous: Record<string, string>,
): Record<string, string> {
  const at = value.indexOf('=');
  if (at < 1) {
    throw new InvalidArgumentError(`must be key=value (got ${value})`);
  }
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

async function runVerify(
  options: VerifyOptions,
  io: CliIo,
  deps: VerifyDeps,
): Promise<number> {
  if (options.endpoint && options.deployed) {
    throw new UsageError(
      'give --endpoint (local) or --deployed (AWS), not both',
    );
  }
  const root = deps.root ?? PACKAGE_ROOT;
  const template = await loadTemplate(options, io, deps, root);
  const running = await readRunning(options, deps);
  const results = runCompliance({
    view: new TemplateView(template),
    root,
    running,
  });
  print(io, options, results, running);
  return complianceExitCode(results);
}

async function loadTemplate(
  options: VerifyOptions,
  io: CliIo,
  deps: VerifyDeps,
  root: string,
): Promise<CfnTemplate> {
  const context = options.context;
  if (options.template) {
    if (Object.keys(context).length > 0) {
      throw new UsageError('-c applies to synthesis; not with --template');
    }
    return JSON.parse(await readFile(options.template, 'utf8'));
  }
  if (deps.synthesize) return deps.synthesize(context);
  if (io.interactive) io.err('synthesizing the stack (about 10 s)...\n');
  // Loaded here: the CDK takes seconds to load, which no other command needs.
  const { synthesizeTemplate } = await import('../ops/compliance-synth.ts');
  return synthesizeTemplate(root, context);
}

/** The running configuration: local with --endpoint, AWS with --deployed. */
async function readRunning(
  options: VerifyOptions,
  deps: VerifyDeps,
): Promise<RunningConfig | undefined> {
  if (!options.endpoint && !options.deployed) return undefined;
  return usingTarget(options, deps.clients, async (target) => {
    const sources = {
      prefix: options.prefix,
      sqs: target.clients.sqs,
      queues: await target.queues(),
    };
    if (options.endpoint) {
      const where = `local ${options.endpoint}`;
      const controlUrl = controlUrlOf(options);
      return readRunningConfig({ ...sources, where, controlUrl });
    }
    const where = `AWS ${options.region ?? 'default region'}`;
    return usingControlClients(options, deps, ({ lambda }) =>
      readRunningConfig({ ...sources, where, lambda }),
    );
  });
}

function print(
  io: CliIo,
  options: VerifyOptions,
  results: readonly ComplianceResult[],
  running: RunningConfig | undefined,
): void {
  const template = options.template ?? 'synthesized';
  if (options.json) {
    const summary = summarize(results);
    printJson(io, { template, running: running?.where, summary, results });
    return;
  }
  io.out(`template: ${template}`);
  io.out(running ? `; running: ${running.where}\n\n` : '\n\n');
  io.out(`${formatReport(results)}\n`);
}
