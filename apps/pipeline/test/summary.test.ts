// The live summary line: how many patients it remembers is bounded, however many ids arrive.
import { MemoryBus } from '@ehr/bus';
import { TOPICS, type SeverityBand, type SeverityScoreEvent } from '@ehr/features';
import { afterEach, describe, expect, it } from 'vitest';
import { startSummary } from '../src/index.js';

/** A valid score of one patient in one band (the summary reads only those), as JSON, which the decoder also takes. */
function score(patientId: string, band: SeverityBand, i: number): SeverityScoreEvent {
  const at = new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString();
  const scoreId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  return {
    schema: 'severity_score',
    schemaVersion: 1,
    eventId: scoreId,
    patientId,
    encounterId: `e-${patientId}`,
    occurredAt: at,
    producedAt: at,
    source: 'scoring-service',
    payload: {
      scoreId,
      featureEventId: scoreId,
      eventTime: at,
      scoredAt: at,
      mode: 'news2_only',
      probability: null,
      band,
      bandSource: 'news2',
      bandReason: 'NEWS2',
      news2: 1,
      news2Band: 'low',
      model: null,
      features: {},
      topFeatures: [],
      latencyMs: 1,
      context: { unit: null },
    },
  };
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe('the live summary', () => {
  it('remembers at most maxPatients, forgetting the patient scored longest ago first', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 }); // one partition: read in the order sent
    await bus.connect();
    stops.push(() => bus.close());
    const summary = await startSummary({ bus, show: () => undefined, intervalMs: 3_600_000, maxPatients: 100 });
    stops.push(() => summary.stop());
    let sent = 0;
    const send = async (patients: [string, SeverityBand][]) => {
      await bus.produce(TOPICS.scores, patients.map(([id, band]) => ({ key: id, value: JSON.stringify(score(id, band, sent++)) })));
      await expect.poll(async () => (await summary.current()).scores, { timeout: 5_000 }).toBe(sent);
    };

    // A flood of 250 new ids within the TTL: the first 150 high, the last 100 low.
    await send(Array.from({ length: 250 }, (_, i): [string, SeverityBand] => [`p${i}`, i < 150 ? 'high' : 'low']));
    expect(await summary.current()).toMatchObject({ patients: 100, bands: { low: 100, medium: 0, high: 0 } });

    // p150, the oldest remembered, is scored again (medium): a new id now forgets p151 instead.
    await send([['p150', 'medium'], ['p250', 'high']]);
    expect(await summary.current()).toMatchObject({ patients: 100, bands: { low: 98, medium: 1, high: 1 } });
  });
});
