import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sendCommand } from '../../lib/cli/send-command.ts';
import {
  createTargetClients,
  type TargetOptions,
} from '../../lib/cli/target.ts';
import { throttleCommand } from '../../lib/cli/throttle-command.ts';
import {
  type ControlServer,
  startControlServer,
} from '../../lib/local/control-server.ts';
import { localRateLimit } from '../../lib/ops/rate-limit.ts';
import { createProducer } from '../../lib/producer.ts';
import {
  orderTask,
  type ProducerFixture,
  queueDepth,
  recordCommands,
  type SentCommand,
  startProducerFixture,
  testRegistry,
} from '../helpers/fixtures-producer.ts';
import { runOps } from '../helpers/ops-cli.ts';

const ORDER_NORMAL = 'tasklane-order-notification-normal';

let fixture: ProducerFixture;
let control: ControlServer;

beforeAll(async () => {
  fixture = await startProducerFixture();
  control = await startControlServer({ port: 0 });
});
afterAll(async () => {
  await control?.stop();
  await fixture?.stop();
});

async function setRate(rate: number | null): Promise<void> {
  const response = await fetch(new URL('/throttle', control.url), {
    method: 'PUT',
    body: JSON.stringify({ rate }),
  });
  expect(response.status).toBe(200);
}

describe('a producer with a local rate limit', () => {
  it('sends 100 tasks at 50 tasks/s in batches a fifth of a second apart', async () => {
    // Prepare
    await setRate(50);
    const sqs = fixture.newSqsClient();
    const commands = recordCommands(sqs);
    const producer = createProducer({
      sqs,
      registry: testRegistry,
      rateLimit: localRateLimit({ controlUrl: control.url }),
    });
    const tasks = Array.from({ length: 100 }, (_, i) =>
      orderTask({ businessId: `order-${i}` }),
    );

    // Act
    const start = Date.now();
    const sent = await producer.sendBatch(tasks);

    // Assess: the last of ten batches of ten is due at 99 x 20 ms = 1.98 s.
    const batches = commands.filter(
      (c) => c.name === 'SendMessageBatchCommand',
    );
    expect(sent).toHaveLength(100);
    expect(batches).toHaveLength(10);
    expect((batches.at(-1)?.at ?? 0) - start).toBeGreaterThanOrEqual(1900);
    for (const [i, batch] of batches.entries()) {
      expect(batch.at - start).toBeGreaterThanOrEqual(i * 200 + 170);
    }
    expect(await queueDepth(sqs, fixture.queueUrl(ORDER_NORMAL))).toBe(100);
    await fixture.purge();
  });

  it('sends without pacing once the limit is off', async () => {
    // Prepare
    await setRate(null);
    const sqs = fixture.newSqsClient();
    const commands = recordCommands(sqs);
    const producer = createProducer({
      sqs,
      registry: testRegistry,
      rateLimit: localRateLimit({ controlUrl: control.url }),
    });
    const tasks = Array.from({ length: 30 }, () => orderTask());

    // Act
    await producer.sendBatch(tasks);

    // Assess: the batches go together; at 50/s they would span 400 ms.
    const batches = commands.filter(
      (c) => c.name === 'SendMessageBatchCommand',
    );
    const times = batches.map((b) => b.at);
    expect(batches).toHaveLength(3);
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(200);
    await fixture.purge();
  });
});

/** A file of `count` order.notification tasks of normal priority. */
function taskFile(count: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rate-limit-')), 'tasks.json');
  const tasks = Array.from({ length: count }, (_, i) =>
    orderTask({ businessId: `order-${i}` }),
  );
  writeFileSync(file, JSON.stringify(tasks));
  return file;
}

/**
 * Runs `tasklane send` in this process on the fixture's emulator, with
 * the control server at `controlUrl`; resolves to the run and the SQS
 * commands the command sent, with their times.
 */
async function send(args: readonly string[], controlUrl: string) {
  let commands: SentCommand[] = [];
  const clients = (options: TargetOptions) => {
    const made = createTargetClients(options);
    commands = recordCommands(made.sqs);
    return made;
  };
  const endpoint = fixture.emulators.messagingEndpoint;
  const run = await runOps(
    sendCommand,
    ['send', ...args, '--endpoint', endpoint, '--control', controlUrl],
    clients,
  );
  return { run, commands };
}

/** A port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('tasklane send in local mode', () => {
  it('keeps to the limit tasklane throttle set: 25 tasks at 20/s take over 1.2 s', async () => {
    // Prepare: the operator's command sets the limit on the control server
    const endpoint = fixture.emulators.messagingEndpoint;
    const throttle = await runOps(throttleCommand, [
      'throttle',
      '--rate',
      '20',
      '--endpoint',
      endpoint,
      '--control',
      control.url,
    ]);
    expect(throttle.code, throttle.stderr).toBe(0);

    // Act
    const { run, commands } = await send(
      ['--file', taskFile(25), '--json'],
      control.url,
    );

    // Assess: batches of 10, 10 and 5 go when their last task is due, 9,
    // 19 and 24 intervals of 50 ms after the first task; the pacer starts
    // after the queue's depth is read.
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout).sent).toHaveLength(25);
    const depthRead = commands.findLast(
      (c) => c.name === 'GetQueueAttributesCommand',
    );
    const batches = commands
      .filter((c) => c.name === 'SendMessageBatchCommand')
      .map((c) => c.at - (depthRead?.at ?? Number.NaN));
    expect(batches).toHaveLength(3);
    // Lower bounds only: a late timer never breaks them; 10 ms for Date.now
    // against the pacer's performance.now.
    for (const [i, due] of [450, 950, 1200].entries()) {
      expect(batches[i]).toBeGreaterThanOrEqual(due - 10);
    }
    expect(
      await queueDepth(fixture.clients.sqs, fixture.queueUrl(ORDER_NORMAL)),
    ).toBe(25);
    await setRate(null);
    await fixture.purge();
  });

  it('warns and sends unpaced when no control server answers', async () => {
    // Prepare
    const nowhere = `http://127.0.0.1:${await closedPort()}`;

    // Act
    const { run, commands } = await send(['--file', taskFile(30)], nowhere);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      new RegExp(
        `^tasklane send: warning: cannot read the send-rate limit from ` +
          `control server ${nowhere} \\(fetch failed: .*ECONNREFUSED.*\\); ` +
          'sending at the last limit read, none if none was read\n$',
      ),
    );
    expect(run.stdout.match(/^sent /gm)).toHaveLength(30);
    const times = commands
      .filter((c) => c.name === 'SendMessageBatchCommand')
      .map((c) => c.at);
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(200);
    await fixture.purge();
  });
});

describe('localRateLimit', () => {
  it('gives up on a control server that never answers, keeping no limit', async () => {
    // Prepare: a server that takes the request and never replies
    const silent = createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    const { port } = silent.address() as AddressInfo;
    const onError = vi.fn();
    const source = localRateLimit({
      controlUrl: `http://127.0.0.1:${port}`,
      timeoutMs: 100,
      onError,
    });

    // Act
    const rate = await source.current();

    // Assess
    expect(rate).toBeUndefined();
    expect(onError).toHaveBeenCalledWith(
      expect.objectContaining({ name: 'TimeoutError' }),
    );
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });
});
