// What a stop keeps of a topic two consumers read (the scores: the sink and alerting): each
// record either has not committed, once, in order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBroker } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { afterAll, describe, expect, it } from 'vitest';
import { resumeSpool, STAGE_INPUTS, writeSpool, type StageInput } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ehr-pipeline-spool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the stop spool', () => {
  it('drains and keeps the scores alerting has not read, and a challenger\'s shadow scores, alerting before the sink', () => {
    expect([...STAGE_INPUTS.keys()]).toEqual(['feature', 'scoring', 'alerting', 'sink']);
    expect(STAGE_INPUTS.get('alerting')).toEqual([TOPICS.scores]);
    expect(STAGE_INPUTS.get('sink')).toContain(TOPICS.shadowScores);
  });

  it('keeps a record of a topic two groups read once, when either has not committed it, in partition and offset order', async () => {
    const broker = new MemoryBroker({ defaultPartitions: 2 });
    broker.createTopic({ topic: TOPICS.scores, partitions: 2 });
    // Keys that land on both partitions, ten records each.
    for (let i = 0; i < 40; i++) broker.append(TOPICS.scores, [{ key: `p${i}`, value: `score-${i}` }]);
    const sizes = broker.topics.get(TOPICS.scores)!.partitions.map((p) => p.end);
    // The sink has landed everything of partition 0 and 3 of partition 1; alerting read 2 and 5.
    broker.group('sink').commit(TOPICS.scores, 0, sizes[0]!);
    broker.group('sink').commit(TOPICS.scores, 1, 3);
    broker.group('alerting').commit(TOPICS.scores, 0, 2);
    broker.group('alerting').commit(TOPICS.scores, 1, 5);
    const inputs: StageInput[] = [
      { stage: 'alerting', topic: TOPICS.scores, groupId: 'alerting' },
      { stage: 'sink', topic: TOPICS.scores, groupId: 'sink' },
    ];
    const report = writeSpool(broker, inputs, join(dir, 'union'));
    const expected = sizes[0]! - 2 + (sizes[1]! - 3);
    expect(report.counts).toEqual({ [TOPICS.scores]: expected });

    const next = new MemoryBroker({ defaultPartitions: 2 });
    const resumed = await resumeSpool(next, join(dir, 'union'), 2);
    expect(resumed.total).toBe(expected);
    const values = next.uncommitted(TOPICS.scores, 'anyone').map((r) => r.value.toString());
    expect(new Set(values).size).toBe(expected);
  });
});
