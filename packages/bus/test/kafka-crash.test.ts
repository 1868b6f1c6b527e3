import { EventEmitter } from 'node:events';
import { createLogger } from '@ehr/runtime';
import type { Consumer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaSubscription } from '../src/kafka-bus.js';
import { waitFor } from './contract.js';

const logger = createLogger({ service: 'bus-test', level: 'silent' });

/** Just enough of a kafkajs consumer to drive the subscription's lifecycle. */
function fakeConsumer(log: string[], id: number) {
  const emitter = new EventEmitter();
  const events = { GROUP_JOIN: 'group_join', CRASH: 'crash' };
  const consumer = {
    events,
    on: (event: string, listener: (e: unknown) => void) => emitter.on(event, listener),
    connect: async () => void log.push(`connect ${id}`),
    subscribe: async () => void log.push(`subscribe ${id}`),
    run: async () => void log.push(`run ${id}`),
    stop: async () => void log.push(`stop ${id}`),
    disconnect: async () => void log.push(`disconnect ${id}`),
    pause: () => undefined,
    resume: () => undefined,
  };
  return { consumer: consumer as unknown as Consumer, emit: (event: string, payload: unknown) => emitter.emit(event, { payload }) };
}

/** A subscription whose every kafkajs consumer is a fake, numbered from 1 as they are made. */
function subscriptionOverFakes() {
  const log: string[] = [];
  const made: ReturnType<typeof fakeConsumer>[] = [];
  const sub = new KafkaSubscription(
    () => {
      const fake = fakeConsumer(log, made.length + 1);
      made.push(fake);
      return fake.consumer;
    },
    { groupId: 'g', topics: ['t'], handler: async () => undefined },
    logger,
    '',
  );
  return { log, made, sub };
}

describe('kafka subscription after a crash kafkajs does not restart', () => {
  it('starts a fresh consumer, reports down meanwhile, and up once it has joined', async () => {
    const { log, made, sub } = subscriptionOverFakes();
    await sub.start();
    made[0]!.emit('crash', { error: new Error('Failed to find group coordinator'), restart: false });
    expect(sub.crashed).toBe('Failed to find group coordinator');
    await waitFor(() => made.length === 2 && log.includes('run 2'), 5_000, 'a fresh consumer');
    made[1]!.emit('group_join', { memberAssignment: { t: [0, 1] } });
    expect(sub.crashed).toBeNull();
    expect(sub.assignment()).toEqual([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    expect(log).toEqual(['connect 1', 'subscribe 1', 'run 1', 'disconnect 1', 'connect 2', 'subscribe 2', 'run 2']);
    await sub.stop();
  });

  it('leaves a crash kafkajs restarts itself to kafkajs', async () => {
    const { made, sub } = subscriptionOverFakes();
    await sub.start();
    made[0]!.emit('crash', { error: new Error('connection lost'), restart: true });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(made).toHaveLength(1);
    expect(sub.crashed).toBeNull();
    await sub.stop();
  });
});
