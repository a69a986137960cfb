import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  startProducerFixture,
  testRegistry,
} from '../helpers/fixtures-producer.ts';

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
