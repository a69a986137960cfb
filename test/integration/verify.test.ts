import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCommand } from '../../lib/cli/verify-command.ts';
import {
  type ControlServer,
  startControlServer,
} from '../../lib/local/control-server.ts';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import {
  type ComplianceResult,
  PACKAGE_ROOT,
} from '../../lib/ops/compliance.ts';
import { synthesizeTemplate } from '../../lib/ops/compliance-synth.ts';
import type { CfnTemplate, Props } from '../../lib/ops/compliance-template.ts';
import {
  arnOf,
  recordingIo,
  runInProcess,
  runTasklane,
  scriptedAws,
  stackOutputs,
} from '../helpers/control-cli.ts';
import { startTestPipeline } from '../helpers/pipeline.ts';

let template: CfnTemplate;
let templateFile: string;
const dir = mkdtempSync(join(tmpdir(), 'tasklane-verify-test-'));

beforeAll(() => {
  // The real stack, synthesized once (about 10 s), with its validations.
  template = synthesizeTemplate(PACKAGE_ROOT);
  templateFile = join(dir, 'Tasklane.template.json');
  writeFileSync(templateFile, JSON.stringify(template));
}, 120_000);

function verify(args: string[], deps = {}) {
  const io = recordingIo();
  return runInProcess(verifyCommand({ io, ...deps }), io, args);
}

function statuses(results: readonly ComplianceResult[]) {
  return Object.fromEntries(results.map((r) => [r.id, r.status]));
}

function resultOf(stdout: string, id: string): ComplianceResult | undefined {
  const { results } = JSON.parse(stdout) as { results: ComplianceResult[] };
  return results.find((r) => r.id === id);
}

describe('tasklane verify on the synthesized template', () => {
  it('reports each requirement; exits 4 while one fails', async () => {
    // Act
    const run = await runTasklane([
      'verify',
      '--template',
      templateFile,
      '--json',
    ]);

    // Assess
    const report = JSON.parse(run.stdout);
    expect(run.code, run.stderr).toBe(4);
    expect(report.results.map((r: ComplianceResult) => r.id)).toEqual(
      Array.from({ length: 23 }, (_, i) => `R${i + 1}`),
    );
    expect(statuses(report.results)).toMatchObject({
      R1: 'INFO',
      R2: 'PASS',
      R3: 'PASS',
      R4: 'PASS',
      R5: 'PASS',
      R6: 'PASS',
      R7: 'PASS',
      R8: 'PASS',
      R9: 'PASS',
      R10: 'PASS',
      R12: 'PASS',
      R13: 'PASS',
      R14: 'INFO',
      R15: 'INFO',
      R16: 'PASS',
      // No allowlist in the default context: anyone IAM allows may send.
      R17: 'FAIL',
      R18: 'PASS',
      R19: 'PASS',
      R20: 'PASS',
      R23: 'PASS',
    });
    // Callbacks, dashboards and upkeep land in the stack and repository
    // piece by piece: each is either present with evidence or named missing.
    for (const id of ['R11', 'R21', 'R22']) {
      const result = resultOf(run.stdout, id);
      expect(['PASS', 'FAIL'], id).toContain(result?.status);
      if (result?.status === 'FAIL')
        expect(result.evidence).toMatch(/not found|no /);
    }
  });

  it('cites the evidence the template gives', async () => {
    // Act
    const run = await verify(['--template', templateFile, '--json']);

    // Assess
    const evidence = (id: string) => resultOf(run.stdout, id)?.evidence;
    expect(evidence('R4')).toMatch(/TASKLANE_QUEUE_CAPACITY=10000/);
    expect(evidence('R5')).toMatch(
      /order\.notification: batch 10 and 10, max concurrency 10, pollers 2-200/,
    );
    expect(evidence('R8')).toMatch(/maxReceiveCount 10 > 6/);
    expect(evidence('R10')).toMatch(
      /tasklane-order-notification-normal 180 s >= 6 x 30 s/,
    );
    expect(evidence('R16')).toMatch(/all \d+ queues deny requests without TLS/);
    expect(evidence('R18')).toMatch(/threshold 8000 messages/);
    expect(evidence('R19')).toMatch(/p99 .*threshold 1000 ms/);
    expect(evidence('R20')).toMatch(/threshold 2 %/);
  });

  it('prints a table of requirement, status and evidence', async () => {
    // Act
    const run = await verify(['--template', templateFile]);

    // Assess
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`template: ${templateFile}`);
    expect(lines).toContainEqual(
      expect.stringMatching(/^R16 +PASS +TLS 1\.2\+/),
    );
    expect(lines.at(-2)).toMatch(/^\d+ PASS, \d+ FAIL, 3 INFO$/);
  });

  it('fails R16 when a queue policy loses its TLS deny', async () => {
    // Prepare
    const mutated = structuredClone(template);
    const [, policy] = Object.entries(mutated.Resources ?? {}).find(
      ([id, r]) =>
        r.Type === 'AWS::SQS::QueuePolicy' && id.includes('DataBackupHigh'),
    ) as [string, { Properties: Props }];
    const document = policy.Properties.PolicyDocument;
    document.Statement = document.Statement.filter(
      (s: Props) => s.Condition?.Bool?.['aws:SecureTransport'] === undefined,
    );
    const file = join(dir, 'no-tls.template.json');
    writeFileSync(file, JSON.stringify(mutated));

    // Act
    const run = await verify(['--template', file, '--json']);

    // Assess
    expect(run.code).toBe(4);
    expect(resultOf(run.stdout, 'R16')).toMatchObject({
      status: 'FAIL',
      evidence: 'tasklane-data-backup-high has no TLS deny',
    });
    expect(resultOf(run.stdout, 'R9')?.status).toBe('PASS');
  });

  it('synthesizes with context: an allowlist passes R17', async () => {
    // Act
    const run = await verify(['-c', 'allowlistCidrs=203.0.113.0/24', '--json']);

    // Assess
    expect(JSON.parse(run.stdout).template).toBe('synthesized');
    expect(resultOf(run.stdout, 'R17')).toMatchObject({
      status: 'PASS',
      evidence: expect.stringMatching(
        /all \d+ queues deny sqs:SendMessage outside 203\.0\.113\.0\/24/,
      ),
    });
  }, 120_000);

  it.each([
    [['-c', 'prefix=x', '--template', 't.json'], /-c applies to synthesis/],
    [
      ['--endpoint', 'http://127.0.0.1:1', '--deployed', '--template', 't'],
      /--endpoint \(local\) or --deployed \(AWS\), not both/,
    ],
    [['-c', 'novalue'], /must be key=value \(got novalue\)/],
  ])('exits 2 for %j', async (args, error) => {
    // Act
    const run = await verify(args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(error);
  });
});

describe('tasklane verify on a running pipeline', () => {
  let pipeline: LocalPipeline;
  let control: ControlServer;

  beforeAll(async () => {
    pipeline = await startTestPipeline();
    control = await startControlServer({ port: 0 });
  });
  afterAll(async () => {
    await control?.stop();
    await pipeline?.stop();
  });

  it('checks the local queues against the template', async () => {
    // Act
    const run = await verify([
      '--template',
      templateFile,
      '--json',
      '--endpoint',
      pipeline.endpoint,
      '--prefix',
      'test',
      '--control',
      control.url,
    ]);

    // Assess
    const where = `running (local ${pipeline.endpoint})`;
    expect(JSON.parse(run.stdout).running).toBe(`local ${pipeline.endpoint}`);
    expect(resultOf(run.stdout, 'R8')?.status).toBe('PASS');
    expect(resultOf(run.stdout, 'R8')?.evidence).toContain(
      `${where}: 6 task queues redrive after more than 6 receives`,
    );
    expect(resultOf(run.stdout, 'R10')?.evidence).toMatch(
      /running \(local .*\): visibility .*test-order-notification-normal 180 s/,
    );
    expect(resultOf(run.stdout, 'R22')?.evidence).toMatch(
      /running control server: send-rate limit off$/,
    );
  });

  it('reads the deployed queues and mappings on AWS', async () => {
    // Prepare
    const fake = scriptedAws({
      DescribeStacksCommand: () => stackOutputs(),
      GetQueueAttributesCommand: (input: { QueueUrl: string }) => ({
        Attributes: {
          QueueArn: arnOf(input.QueueUrl),
          VisibilityTimeout: '180',
          RedrivePolicy: '{"maxReceiveCount":10}',
        },
      }),
      ListEventSourceMappingsCommand: () => ({
        EventSourceMappings: [
          {
            UUID: 'u',
            State: 'Enabled',
            BatchSize: 10,
            FunctionResponseTypes: [],
          },
        ],
      }),
    });

    // Act
    const run = await verify(
      [
        '--template',
        templateFile,
        '--json',
        '--deployed',
        '--region',
        'eu-west-1',
      ],
      { clients: fake.targetClients, controlClients: fake.controlClients },
    );

    // Assess
    const commands = fake.requests.map((r) => r.command);
    expect(
      commands.filter((c) => c === 'ListEventSourceMappingsCommand'),
    ).toHaveLength(4);
    expect(fake.requests).toContainEqual({
      command: 'ListEventSourceMappingsCommand',
      input: {
        EventSourceArn:
          'arn:aws:sqs:eu-west-1:123456789012:tasklane-order-notification-high',
      },
    });
    expect(resultOf(run.stdout, 'R9')).toMatchObject({
      status: 'FAIL',
      evidence: expect.stringMatching(
        /running \(AWS eu-west-1\): tasklane-order-notification-high without ReportBatchItemFailures/,
      ),
    });
  });
});
