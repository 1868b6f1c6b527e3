// Every byte the service produces for a fixed input (vectors, dead letters, changelog
// records and their headers), pinned by digest: the hot path may get cheaper, its output
// may not change. The wall clock is fixed (it is in `producedAt`); checkpoints go by
// event count. If this fails, the output changed: find out why before updating a digest.
import { createHash } from 'node:crypto';
import { TOPICS } from '@ehr/features';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cohortFixture } from './fixtures/stream.js';
import { processorHarness, type Produced } from './fixtures/recording-bus.js';

const WALL_CLOCK = Date.parse('2026-06-01T12:00:00.000Z');

function digest(records: readonly Produced[]): string {
  const hash = createHash('sha256');
  for (const r of records) {
    hash.update(`${r.topic}\u0000${r.key}\u0000${JSON.stringify(Object.entries(r.headers).sort())}\u0000${r.value.length}\u0000`);
    hash.update(r.value);
  }
  return hash.digest('hex');
}

describe('the bytes the feature service produces', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('are exactly those pinned, topic by topic, for a fixed cohort with poison records', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(WALL_CLOCK);
    const fixture = cohortFixture({ seed: 7, patients: 25, hours: 36, artefactRate: 0.05, poison: true });
    const { bus, feed, processor } = await processorHarness({ checkpointEvery: 400, keep: true, now: () => WALL_CLOCK });
    await feed(fixture.records, 37);
    await processor.checkpointAll();
    const on = (topic: string) => bus.produced.filter((r) => r.topic === topic);
    const summary = Object.fromEntries(
      [TOPICS.features, TOPICS.deadLetter, TOPICS.featureState].map((t) => [t, { records: on(t).length, sha256: digest(on(t)) }]),
    );
    expect(summary).toEqual({
      [TOPICS.features]: { records: 5614, sha256: 'd38dc9acc1844b439c6bfbef999f7ba2e656d883cebfe8b5a083a5904aedc06d' },
      [TOPICS.deadLetter]: { records: 159, sha256: '36fa0885c1abd3ae2dd8d1373ad4ca73cd1579e748635fb2380b0222f1272160' },
      // The changelog's digest changed when a closed stay began to keep its event ids (closeStay).
      [TOPICS.featureState]: { records: 152, sha256: '444d1dd850e3983e517bb2bef666ab8ca3b7970582f818350e6dc6a4a903b0e5' },
    });
  });
});
