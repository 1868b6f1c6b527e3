import { describe, expect, it } from 'vitest';
import { createLogger, GracefulShutdown } from '../src/index.js';

const logger = createLogger({ service: 'svc', level: 'silent' });

describe('graceful shutdown', () => {
  it('runs steps in order once, even when one fails', async () => {
    const order: string[] = [];
    const s = new GracefulShutdown(logger, 1000)
      .add('stop consuming', () => void order.push('stop'))
      .add('flush', () => {
        order.push('flush');
        throw new Error('broker gone');
      })
      .add('close', async () => void order.push('close'));
    const [a, b] = await Promise.all([s.run('SIGTERM'), s.run('again')]);
    expect(order).toEqual(['stop', 'flush', 'close']);
    expect([a, b]).toEqual([false, false]);
  });

  it('gives up at the deadline', async () => {
    const s = new GracefulShutdown(logger, 50).add('stuck', () => new Promise<void>(() => undefined));
    expect(await s.run('test')).toBe(false);
  });

  it('one SIGTERM runs the steps and exits 0 (it is not mistaken for a second signal)', async () => {
    const before = [...process.listeners('SIGTERM'), ...process.listeners('SIGINT')];
    const exits: number[] = [];
    const steps: string[] = [];
    new GracefulShutdown(logger, 1000).add('flush', () => void steps.push('flush')).exitOnSignals((code) => exits.push(code));
    try {
      process.emit('SIGTERM', 'SIGTERM');
      await new Promise((r) => setTimeout(r, 50));
      expect(steps).toEqual(['flush']);
      expect(exits).toEqual([0]);
    } finally {
      for (const l of process.listeners('SIGTERM')) if (!before.includes(l)) process.removeListener('SIGTERM', l);
      for (const l of process.listeners('SIGINT')) if (!before.includes(l)) process.removeListener('SIGINT', l);
    }
  });
});
