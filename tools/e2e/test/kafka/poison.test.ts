// Fault: poison input on the raw topic, published straight onto it (past the producer,
// which would refuse most of it), between valid events: malformed JSON, not JSON, an empty
// value, JSON that is not an object, a wrong schema version, an unknown schema, a giant
// note (900 KB, nine times the note limit), invalid UTF-8, deeply nested JSON, an event
// without its ids, and a valid event without a Kafka key. Each must come out as what it is
// (the right dead-letter reason, or scored), the valid events around it scored, every
// service ready. The producer's own door refuses the giant note and the malformed body.
import type {} from '@ehr/kafka-local/vitest';
import { TOPICS, type RawEvent } from '@ehr/features';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cohortEvents, identities, publishEvents, rawBus } from '../../src/inputs.js';
import { ensureModel } from '../../src/model.js';
import { kafkaClient } from '../../src/observer.js';
import { startPipeline, type PipelineRun } from '../../src/pipeline.js';
import { finishRun, say } from './helpers.js';

const note = (id: string, text: string): RawEvent =>
  ({
    schema: 'clinical_note',
    schemaVersion: 1,
    eventId: id,
    patientId: 'PZ-00001',
    encounterId: 'PZ-00001-E1',
    occurredAt: '2026-01-05T06:00:00Z',
    producedAt: '2026-01-05T06:00:00Z',
    source: 'synthetic',
    payload: { category: 'nursing', author: 'rn', text },
  });

/** What is injected, and what must become of it: a dead letter with this reason, or a score. */
const CASES: { name: string; value: () => Buffer | null; key: string | null; expect: string }[] = [
  { name: 'malformed JSON', key: 'PZ-00001', value: () => Buffer.from(JSON.stringify(note('pz-malformed', 'x')).slice(0, 60)), expect: 'unparseable' },
  { name: 'not JSON', key: 'PZ-00001', value: () => Buffer.from('hello, this is not an event'), expect: 'unparseable' },
  { name: 'empty value', key: 'PZ-00001', value: () => Buffer.alloc(0), expect: 'unparseable' },
  { name: 'JSON null', key: 'PZ-00001', value: () => Buffer.from('null'), expect: 'schema_invalid' },
  { name: 'JSON array', key: 'PZ-00001', value: () => Buffer.from('[1,2,3]'), expect: 'schema_invalid' },
  { name: 'wrong schema version', key: 'PZ-00001', value: () => Buffer.from(JSON.stringify({ ...note('pz-v2', 'fine'), schemaVersion: 2 })), expect: 'unsupported_schema_version' },
  { name: 'unknown schema', key: 'PZ-00001', value: () => Buffer.from(JSON.stringify({ ...note('pz-unknown', 'x'), schema: 'blood_gas' })), expect: 'schema_invalid' },
  { name: 'giant note (900 KB)', key: 'PZ-00001', value: () => Buffer.from(JSON.stringify(note('pz-giant', 'x'.repeat(900_000)))), expect: 'schema_invalid' },
  {
    name: 'invalid UTF-8',
    key: 'PZ-00001',
    value: () => {
      const text = JSON.stringify(note('pz-utf8', 'AAAA'));
      const at = text.indexOf('AAAA');
      return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(text.slice(at + 4))]);
    },
    expect: 'unparseable',
  },
  { name: 'deeply nested JSON', key: 'PZ-00001', value: () => Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), expect: 'schema_invalid' },
  {
    name: 'missing ids (no eventId, no patientId)',
    key: 'PZ-00001',
    value: () => {
      const { eventId: _e, patientId: _p, ...rest } = note('pz-noids', 'x');
      return Buffer.from(JSON.stringify(rest));
    },
    expect: 'schema_invalid',
  },
  { name: 'no Kafka key (a valid event)', key: null, value: () => Buffer.from(JSON.stringify(note('pz-nokey', 'Settled overnight.'))), expect: 'scored' },
];

describe('fault: poison input on the raw topic', () => {
  let run: PipelineRun | undefined;
  afterAll(async () => {
    await run?.stop();
  });
  let modelPath: string;
  beforeAll(async () => {
    modelPath = await ensureModel(undefined, say);
  });

  it('dead-letters each poison record with its reason, scores everything valid, stays ready', async () => {
    const valid = cohortEvents({ seed: 8322, patients: 15, hours: 12 });
    run = await startPipeline({ brokers: inject('kafkaBrokers'), runId: `e2e-poison-${process.pid}-${Date.now()}`, modelPath });
    const current = run;

    // The producer's door: a note past the limit, and a body that is not JSON, are refused.
    const post = (body: string) =>
      fetch(`${current.stack.url('producer')}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(20_000) });
    expect((await post(JSON.stringify([note('pz-http-giant', 'x'.repeat(200_000))]))).status).toBe(400);
    expect((await post('{"events": [')).status).toBe(400);

    const bus = await rawBus(current.kafka, current.prefix);
    const producer = kafkaClient(current.kafka, 'e2e-poison').producer();
    await producer.connect();
    try {
      const half = Math.floor(valid.length / 2);
      await publishEvents(bus, valid.slice(0, half), { batchSize: 500 });
      // Poison between valid events, on the same patient key as some of them.
      // One request each: the giant note alone is near the broker's 1 MB message limit.
      for (const c of CASES) {
        await producer.send({ topic: `${current.prefix}${TOPICS.events}`, messages: [{ key: c.key, value: c.value(), headers: { 'e2e-case': c.name } }] });
      }
      await publishEvents(bus, valid.slice(half), { batchSize: 500 });
    } finally {
      await producer.disconnect();
      await bus.close();
    }

    const { accounting, warehouse } = await finishRun(run, { patients: [...identities(valid), { patientId: 'PZ-00001', encounterId: 'PZ-00001-E1' }], drainMs: 60_000 });
    run = undefined;

    const reasonAt = new Map(warehouse.deadLetters.map((d) => [`${d.sourcePartition}:${d.sourceOffset}`, d.reason]));
    const records = current.observer.records;
    const got = CASES.map((c) => {
      const r = records.find((x) => x.label === c.name);
      if (!r) return [c.name, 'not on the topic'];
      const position = `${r.partition}:${r.offset}`;
      return [c.name, accounting.outcomes.get(position) === 'scored' ? 'scored' : (reasonAt.get(position) ?? accounting.outcomes.get(position) ?? 'nothing')];
    });
    expect(got).toEqual(CASES.map((c) => [c.name, c.expect]));
    // Every valid event: scored, or what its own artefact makes of it.
    expect(accounting.published).toBe(valid.length + CASES.length);
    expect(accounting.scored).toBeGreaterThanOrEqual(valid.length - 40);
  });
});
