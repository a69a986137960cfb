import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ControlServer,
  startControlServer,
} from '../../lib/local/control-server.ts';
import { runDemo } from '../../lib/local/demo.ts';
import type { LocalPipeline } from '../../lib/local/runtime.ts';
import { recordCommands } from '../helpers/fixtures-producer.ts';
import { startTestPipeline } from '../helpers/pipeline.ts';

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

describe('runDemo', () => {
  it('keeps to the send-rate limit of the control server', async () => {
    // Prepare: 2 tasks/s; the producer sends each of its 4 tasks alone
    const response = await fetch(new URL('/throttle', control.url), {
      method: 'PUT',
      body: JSON.stringify({ rate: 2 }),
    });
    expect(response.status).toBe(200);
    const commands = recordCommands(pipeline.clients.sqs);
    const lines: string[] = [];

    // Act
    const records = await runDemo(
      pipeline,
      (line) => lines.push(line),
      undefined,
      control.url,
    );

    // Assess: the 4th task is due 3 intervals of 500 ms after the 1st
    const sends = commands
      .filter((c) => c.name === 'SendMessageBatchCommand')
      .map((c) => c.at);
    expect(sends).toHaveLength(4);
    const [first = 0, , , last = 0] = sends;
    expect(last - first).toBeGreaterThanOrEqual(1_450);
    expect(records.size).toBe(5);
    expect(lines).not.toContainEqual(
      expect.stringContaining('send-rate limit not read'),
    );
  });
});
