import { MemoryBus } from '@ehr/bus';
import { describe, expect, it } from 'vitest';
import { embeddedBroker } from '../src/index.js';

const MiB = 1024 * 1024;
const settle = () => new Promise((r) => setTimeout(r, 100));

describe("npm start's in-memory bus", () => {
  it('holds intake back once 24 MiB are held across topics, and a stage once its reader is 2 MiB behind on a partition', async () => {
    const broker = embeddedBroker(1);
    const topics = Array.from({ length: 20 }, (_, i) => `t${i}`);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const reader = new MemoryBus({ broker });
    const stalled = await reader.subscribe({ groupId: 'stalled', topics, handler: () => gate });
    // Intake consumes nothing: 1.5 MiB to each topic in turn, never 2 MiB on one.
    const intake = new MemoryBus({ broker });
    let accepted = 0;
    const posting = (async () => {
      for (const topic of topics) {
        await intake.produce(topic, [{ key: 'p', value: Buffer.alloc(1.5 * MiB) }]);
        accepted++;
      }
    })();
    await settle();
    expect(accepted).toBe(16); // 24 MiB (and 16 key bytes) held: the 17th waits
    // A stage (it consumes a topic of its own) is not held back by the total, only per partition.
    const stage = new MemoryBus({ broker });
    const own = await stage.subscribe({ groupId: 'stage', topics: ['input'], handler: async () => undefined });
    await stage.produce('t19', [{ key: 'p', value: Buffer.alloc(1.5 * MiB) }]);
    await stage.produce('t19', [{ key: 'p', value: Buffer.alloc(1.5 * MiB) }]); // 1.5 MiB behind: goes in
    let third = false;
    const behind = stage.produce('t19', [{ key: 'p', value: Buffer.alloc(MiB) }]).then(() => (third = true));
    await settle();
    expect(third).toBe(false); // 3 MiB behind on t19's one partition
    open();
    await Promise.all([posting, behind]);
    expect(accepted).toBe(20);
    await Promise.all([stalled.stop(), own.stop()]);
    await Promise.all([reader.close(), intake.close(), stage.close()]);
  });
});
