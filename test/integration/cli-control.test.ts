import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaleCommand } from '../../lib/cli/scale-command.ts';
import { throttleCommand } from '../../lib/cli/throttle-command.ts';
import {
  type ControlServer,
  startControlServer,
} from '../../lib/local/control-server.ts';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import {
  recordingIo,
  runInProcess,
  runTasklane,
} from '../helpers/control-cli.ts';
import { startTestPipeline } from '../helpers/pipeline.ts';

let pipeline: LocalPipeline;
let control: ControlServer;
const scaled: [string, number][] = [];

beforeAll(async () => {
  pipeline = await startTestPipeline();
  control = await startControlServer({
    port: 0,
    taskTypes: pipeline.registry.taskTypes,
    maxConcurrency: { 'order.notification': 10 },
    onScale: (taskType, n) => {
      scaled.push([taskType, n]);
    },
  });
});
afterAll(async () => {
  await control?.stop();
  await pipeline?.stop();
});

function localFlags(): string[] {
  return ['--endpoint', pipeline.endpoint, '--control', control.url];
}

/** `tasklane <args>` as a child, on the local pipeline and control server. */
function local(...args: string[]) {
  return runTasklane([...args, ...localFlags()]);
}

/** The same in this process: faster, for the many cases of one path. */
function localInProcess(name: 'scale' | 'throttle', ...args: string[]) {
  const io = recordingIo();
  const command =
    name === 'scale' ? scaleCommand({ io }) : throttleCommand({ io });
  return runInProcess(command, io, [...args, ...localFlags()]);
}

describe('tasklane scale, local mode', () => {
  it('sets a task type maximum concurrency through the control server', async () => {
    // Act
    const run = await local(
      'scale',
      '--type',
      'order.notification',
      '--max-concurrency',
      '50',
    );

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual([
      'order.notification high lane: maximum concurrency 10 -> 50 (local pollers)',
      'order.notification normal lane: maximum concurrency 10 -> 50 (local pollers)',
    ]);
    expect(scaled).toContainEqual(['order.notification', 50]);
    expect(control.config().maxConcurrency['order.notification']).toBe(50);
  });

  it.each([
    [
      ['--max-concurrency', '5000'],
      /--max-concurrency <n>.*'5000'.*concurrent executions from 2 to 1000 \(got 5000\)/,
    ],
    [['--max-concurrency', '1'], /--max-concurrency.*from 2 to 1000 \(got 1\)/],
    [
      ['--provisioned-pollers', '300'],
      /--provisioned-pollers.*event pollers \(minimum\) from 2 to 200 \(got 300\)/,
    ],
    [
      ['--provisioned-pollers', '10:5000'],
      /--provisioned-pollers.*\(maximum\) from 2 to 2000 \(got 5000\)/,
    ],
    [
      ['--provisioned-pollers', '20:10'],
      /maximum must be from the minimum 20 to 2000 event pollers \(got 20:10\)/,
    ],
    [[], /give --max-concurrency <n> and\/or --provisioned-pollers/],
    [['--provisioned-pollers', '5'], /applies to AWS only/],
  ])('exits 2 naming the flag, range and value: %j', async (flags, error) => {
    // Act
    const run = await localInProcess(
      'scale',
      '--type',
      'order.notification',
      ...flags,
    );

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(error);
    expect(run.stdout).toBe('');
  });

  it('exits 2 from the command line as well', async () => {
    // Act
    const run = await local(
      'scale',
      '--type',
      'order.notification',
      '--max-concurrency',
      '5000',
    );

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/from 2 to 1000 \(got 5000\)/);
  });

  it('exits 2 for a task type the pipeline does not have', async () => {
    // Act
    const run = await localInProcess(
      'scale',
      '--type',
      'no.such',
      '--max-concurrency',
      '5',
    );

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown task type no\.such/);
  });
});

describe('tasklane throttle, local mode', () => {
  it('sets, shows and clears the send-rate limit', async () => {
    // Act
    const set = await local('throttle', '--rate', '50');
    const shown = await local('throttle');
    const setRate = control.config().sendRateLimit;
    const off = await localInProcess('throttle', '--off', '--json');

    // Assess
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe(
      `send-rate limit set to 50 tasks/s per producer (local:${control.url})\n`,
    );
    expect(setRate).toBe(50);
    expect(shown.stdout).toMatch(
      /^send-rate limit is 50 tasks\/s per producer/,
    );
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout)).toEqual({
      rate: null,
      source: `local:${control.url}`,
      changed: true,
    });
    expect(control.config().sendRateLimit).toBeNull();
  });

  it.each([
    [['--rate', '0'], /--rate.*tasks per second from 0\.1 to 100000 \(got 0\)/],
    [['--rate', 'fast'], /--rate.*\(got fast\)/],
    [['--rate', '5', '--off'], /--rate <tasks-per-second> or --off, not both/],
  ])('exits 2 for %j', async (flags, error) => {
    // Act
    const run = await localInProcess('throttle', ...flags);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(error);
  });

  it('exits 1 naming the cause when no control server answers', async () => {
    // Act
    const run = await runTasklane([
      'throttle',
      '--endpoint',
      pipeline.endpoint,
      '--control',
      'http://127.0.0.1:9',
    ]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /no control server answers at http:\/\/127\.0\.0\.1:9/,
    );
  });
});

describe('the control server', () => {
  async function request(method: string, path: string, body?: string) {
    const response = await fetch(new URL(path, control.url), { method, body });
    return { status: response.status, body: await response.json() };
  }

  it('refuses bad bodies, unknown routes and methods with a reason', async () => {
    // Act
    const answers = await Promise.all([
      request('PUT', '/throttle', '{"rate":-1}'),
      request('PUT', '/throttle', 'not json'),
      request('PUT', '/scale/order.notification', '{"maxConcurrency":2.5}'),
      request('PUT', '/scale/order.notification', '{}'),
      request('GET', '/nowhere'),
      request('DELETE', '/throttle'),
    ]);

    // Assess
    expect(answers).toEqual([
      {
        status: 400,
        body: {
          error:
            'rate must be null or a number of tasks per second from 0.1 ' +
            'to 100000 (got -1)',
        },
      },
      { status: 400, body: { error: 'the body is not JSON' } },
      {
        status: 400,
        body: {
          error:
            'maxConcurrency must be a whole number of concurrent ' +
            'executions from 2 to 1000 (got 2.5)',
        },
      },
      {
        status: 400,
        body: { error: 'the body must be a JSON object with maxConcurrency' },
      },
      { status: 404, body: { error: 'no route GET /nowhere' } },
      { status: 405, body: { error: 'no route DELETE /throttle' } },
    ]);
  });

  it('refuses a scale its callback rejects, keeping the old value', async () => {
    // Prepare
    const refusing = await startControlServer({
      port: 0,
      maxConcurrency: { 'data.backup': 5 },
      onScale: () => {
        throw new Error('the poller is stopping');
      },
    });

    // Act
    const response = await fetch(new URL('/scale/data.backup', refusing.url), {
      method: 'PUT',
      body: '{"maxConcurrency":8}',
    });
    const answer = await response.json();
    const config = refusing.config();
    await refusing.stop();

    // Assess
    expect(response.status).toBe(400);
    expect(answer).toEqual({ error: 'the poller is stopping' });
    expect(config.maxConcurrency).toEqual({ 'data.backup': 5 });
    expect(refusing.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
