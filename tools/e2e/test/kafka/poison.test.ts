// The poison suite (issue 14): a corpus of bad records made from valid ones (src/poison.ts,
// well over 100 kinds) thrown at a running pipeline on a real broker, through both doors
// (POST /events and FHIR) and as raw bytes written straight onto each topic, interleaved
// with valid records on the same partitions. The run must end with: every valid event
// scored exactly once, every bad record dead-lettered once with its reason (or refused at
// the door with it), no partition stalled (the services run with CONSUMER_STALL_SECONDS=5
// and their readiness is watched throughout: a valid record behind a poison one waiting
// 5 s would show there), and every service ready.
import type {} from '@ehr/kafka-local/vitest';
import { TOPICS, type RawEvent } from '@ehr/features';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { cohortEvents, identities, publishEvents, rawBus } from '../../src/inputs.js';
import { kafkaClient } from '../../src/observer.js';
import { startPipeline, type PipelineRun } from '../../src/pipeline.js';
import {
  deadLetterCases,
  fhirCases,
  rawEventCases,
  scoreCases,
  validDeadLetter,
  validScore,
  validVector,
  vectorCases,
  type Outcome,
  type PoisonCase,
} from '../../src/poison.js';
import { readWarehouse, type WarehouseContents } from '../../src/warehouse.js';
import { finishRun, say, testModelBeforeAll } from './helpers.js';

const DOOR_REFUSES = new Set<Outcome>(['schema_invalid', 'unsupported_schema_version', 'future_event', 'unparseable']);
/** Ids that are also everyday words in a log line (an error's text, a stack): not usable as leak needles. */
const WORDS = new Set(['__proto__', 'constructor', 'toString']);

describe('fault: the poison suite', () => {
  let run: PipelineRun | undefined;
  const model = testModelBeforeAll();
  afterAll(async () => {
    await run?.stop();
  });

  it('every valid record interleaved with the poison is scored exactly once, every bad one dead-lettered once with its reason, no partition stalls', async () => {
    // No artefacts: every cohort event is valid, new and on time, so each must be scored exactly once.
    const valid = cohortEvents({ seed: 8322, patients: 16, hours: 12, artefactRate: 0 });
    const stall = { CONSUMER_STALL_SECONDS: '5' };
    run = await startPipeline({
      brokers: inject('kafkaBrokers'),
      runId: `e2e-poison-${process.pid}-${Date.now()}`,
      modelPath: model.path,
      serviceEnv: { feature: stall, scoring: stall, sink: stall, dashboard: stall },
    });
    const current = run;
    const now = Date.now();
    const at = valid[Math.floor(valid.length / 2)]!.occurredAt;

    // Readiness, watched for the whole run: a stalled partition shows as degraded.
    const stalls: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const readiness = await current.stack.readiness();
        for (const [service, r] of Object.entries(readiness)) {
          const partitions = (r?.body as { dependencies?: { partitions?: { state: string; detail?: string } } } | undefined)?.dependencies?.partitions;
          if (partitions && partitions.state !== 'up') stalls.push(`${service}: ${partitions.detail ?? partitions.state}`);
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    })();

    // 1. The doors. POST /events, one request per case (a batch is all or nothing).
    const doorCases = rawEventCases('door', at, now).filter((c) => c.json !== undefined || c.expect === 'unparseable');
    const doorResults: { name: string; status: number; reason: string | null; eventId: string | null }[] = [];
    for (const c of doorCases) {
      // The case's own bytes, in a one-event batch (its JSON text may hold what JSON.stringify would not write back).
      const body = c.json !== undefined ? Buffer.concat([Buffer.from('['), c.value, Buffer.from(']')]) : c.value;
      const response = await fetch(`${current.stack.url('producer')}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(30_000) });
      const answer = (await response.json().catch(() => null)) as { errors?: { reason: string }[] } | null;
      const eventId = typeof (c.json as { eventId?: unknown } | undefined)?.eventId === 'string' ? (c.json as { eventId: string }).eventId : null;
      doorResults.push({ name: c.name, status: response.status, reason: answer?.errors?.[0]?.reason ?? null, eventId });
    }
    // The same valid event posted twice: accepted twice, the second a duplicate.
    const twice = valid[0]!;
    const again = { ...twice, eventId: 'pz-door-twice', patientId: 'PZ-door-twice' };
    for (let i = 0; i < 2; i++) expect((await fetch(`${current.stack.url('producer')}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([again]) })).status).toBe(202);

    // FHIR, one Observation per request.
    const fhir = fhirCases('f', at, now);
    const fhirResults: { name: string; status: number; issues: string }[] = [];
    for (const c of fhir) {
      const response = await fetch(`${current.stack.url('producer')}/fhir/Observation`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: c.body, signal: AbortSignal.timeout(30_000) });
      fhirResults.push({ name: c.name, status: response.status, issues: await response.text() });
    }

    // 2. Raw bytes onto the raw topic: each poison record just before a valid event on its partition.
    const raw = rawEventCases('raw', at, now);
    const producer = kafkaClient(current.kafka, 'e2e-poison').producer();
    await producer.connect();
    const bus = await rawBus(current.kafka, current.prefix);
    const send = async (topic: string, key: string | null, value: Buffer, label: string) => {
      const [meta] = await producer.send({ topic: `${current.prefix}${topic}`, messages: [{ key, value, headers: { 'e2e-case': label } }] });
      return { partition: meta!.partition, offset: meta!.baseOffset! };
    };
    const specials: PoisonCase[] = [];
    try {
      const chunk = Math.max(1, Math.floor(valid.length / (raw.length + 1)));
      let i = 0;
      for (const c of raw) {
        await publishEvents(bus, valid.slice(i, i + chunk));
        i += chunk;
        // Keyed by the patient of the next valid event: that one waits behind it on its partition.
        const following = valid[Math.min(i, valid.length - 1)]!;
        await send(TOPICS.events, c.key === undefined ? following.patientId : c.key, c.value, c.name);
      }
      await publishEvents(bus, valid.slice(i));
      // What needs the state the valid events built: a duplicate, a late event; and two keys.
      const last = new Map<string, RawEvent>();
      for (const e of valid) last.set(e.patientId, e);
      const first = valid.find((e) => Date.parse(last.get(e.patientId)!.occurredAt) - Date.parse(e.occurredAt) > 8 * 3_600_000)!;
      const latest = last.get(first.patientId)!;
      const late = { ...latest, eventId: 'pz-raw-late', occurredAt: new Date(Date.parse(latest.occurredAt) - 8 * 3_600_000).toISOString() };
      specials.push(
        { name: 'a valid event sent again (same bytes)', key: valid[3]!.patientId, value: Buffer.from(JSON.stringify(valid[3])), expect: 'duplicate' },
        { name: 'an event id seen before, other content', key: valid[4]!.patientId, value: Buffer.from(JSON.stringify({ ...valid[4]!, payload: { ...valid[4]!.payload } , producedAt: at })), expect: 'duplicate' },
        { name: 'an event 8 h older than its patient\'s latest', key: late.patientId, value: Buffer.from(JSON.stringify(late)), expect: 'late_event' },
        { name: 'a valid event without a Kafka key', key: null, value: Buffer.from(JSON.stringify({ ...valid[5]!, eventId: 'pz-raw-nokey', patientId: 'PZ-raw-nokey' })), expect: 'scored' },
        { name: 'a valid event keyed by another patient', key: 'someone-else', value: Buffer.from(JSON.stringify({ ...valid[6]!, eventId: 'pz-raw-otherkey', patientId: 'PZ-raw-otherkey' })), expect: 'scored' },
      );
      for (const c of specials) await send(TOPICS.events, c.key ?? null, c.value, c.name);

      // 3. Raw bytes onto the downstream topics, each poison record just before a valid one on its partition.
      const downstream: { topic: string; c: PoisonCase; at: { partition: number; offset: string } }[] = [];
      const injected = { vectorIds: new Set<string>(), scoreIds: new Set<string>(), letterIds: new Set<string>() };
      const interleave = async (topic: string, cases: PoisonCase[], validOne: (n: number) => { key: string; value: Buffer; id: string }, ids: Set<string>) => {
        for (let n = 0; n < cases.length; n++) {
          const good = validOne(n);
          const c = cases[n]!;
          downstream.push({ topic, c, at: await send(topic, good.key, c.value, c.name) });
          await send(topic, good.key, good.value, `valid ${topic} ${n}`);
          ids.add(good.id);
        }
      };
      await interleave(TOPICS.features, vectorCases('v', at), (n) => {
        const v = validVector('good', n, at);
        return { key: v.patientId, value: Buffer.from(JSON.stringify(v)), id: v.eventId };
      }, injected.vectorIds);
      for (const d of downstream) if (d.c.expect === 'scored') injected.vectorIds.add(JSON.parse(d.c.value.toString()).eventId as string);
      await interleave(TOPICS.scores, scoreCases('s', at), (n) => {
        const s = validScore('good', n, at);
        return { key: s.patientId, value: Buffer.from(JSON.stringify(s)), id: s.eventId };
      }, injected.scoreIds);
      await interleave(TOPICS.deadLetter, deadLetterCases('d'), (n) => {
        const d = validDeadLetter('good', n);
        return { key: 'external', value: Buffer.from(JSON.stringify(d)), id: d.eventId };
      }, injected.letterIds);

      // 4. Drain, check readiness, stop, read the warehouse; the raw topic's accounting sees only what traces to it.
      let whole: WarehouseContents | null = null;
      const plain = new Set<string>([TOPICS.features, TOPICS.scores, TOPICS.deadLetter].flatMap((t) => [t, `${current.prefix}${t}`]));
      const poisonEvents = raw.concat(doorCases).flatMap((c) => (c.json && typeof c.json === 'object' && !Array.isArray(c.json) ? [c.json as RawEvent] : []));
      const needles = [
        ...identities(valid),
        ...identities(poisonEvents),
        ...fhir.flatMap((c) => (c.patientId ? [{ patientId: c.patientId, encounterId: null }] : [])),
        ...[...injected.vectorIds].map((id) => ({ patientId: id.replace('pz-vector-', 'PZV-'), encounterId: null })),
      ].filter((p) => typeof p.patientId === 'string' && !WORDS.has(p.patientId));
      const { accounting, warehouse } = await finishRun(current, {
        patients: needles,
        drainMs: 180_000,
        beforeStop: async () => {
          watching = false;
          await watcher;
        },
        read: async () => {
          whole = await readWarehouse(current.duckdbPath!);
          return {
            ...whole,
            scores: whole.scores.filter((s) => !(s.featureEventId !== null && injected.vectorIds.has(s.featureEventId)) && !injected.scoreIds.has(s.scoreId)),
            deadLetters: whole.deadLetters.filter((d) => !(d.sourceTopic !== null && plain.has(d.sourceTopic)) && !injected.letterIds.has(d.deadLetterId)),
          };
        },
      });
      run = undefined;
      const all = whole as WarehouseContents | null;
      if (!all) throw new Error('the warehouse was not read');

      // No partition stalled at any moment of the run.
      expect(stalls, 'readiness reported a stalled partition').toEqual([]);

      // The doors said what they refused and why; what they accepted went on to its outcome.
      const records = current.observer.records;
      const outcomeOf = (position: string) => {
        const reason = warehouse.deadLetters.find((d) => `${d.sourcePartition}:${d.sourceOffset}` === position)?.reason;
        const o = accounting.outcomes.get(position);
        return o === 'dead_lettered' ? (reason ?? 'dead_lettered') : (o ?? 'nothing');
      };
      const byEventId = (eventId: string) => records.filter((r) => r.eventId === eventId).map((r) => outcomeOf(`${r.partition}:${r.offset}`));
      const doorGot = doorCases.map((c, i) => {
        const r = doorResults[i]!;
        if (DOOR_REFUSES.has(c.expect)) return [c.name, r.status === 400 && (r.reason === null || r.reason === c.expect) ? c.expect : `HTTP ${r.status} ${r.reason}`];
        if (r.status !== 202) return [c.name, `HTTP ${r.status} ${r.reason}`];
        return [c.name, byEventId(r.eventId!).join('+') || 'not on the topic'];
      });
      expect(doorGot).toEqual(doorCases.map((c) => [c.name, c.expect]));
      expect(byEventId('pz-door-twice')).toEqual(['scored', 'duplicate']);
      const fhirGot = fhir.map((c, i) => {
        const r = fhirResults[i]!;
        if (r.status !== c.status) return [c.name, `HTTP ${r.status}: ${r.issues.slice(0, 200)}`];
        if (c.refusal && !c.refusal.test(r.issues)) return [c.name, `refused without ${String(c.refusal)}: ${r.issues.slice(0, 200)}`];
        if (c.status !== 202) return [c.name, c.status];
        const mine = records.filter((x) => x.patientId === c.patientId).map((x) => outcomeOf(`${x.partition}:${x.offset}`));
        return [c.name, mine.join('+')];
      });
      expect(fhirGot).toEqual(fhir.map((c) => [c.name, c.status === 202 ? c.expect : c.status]));

      // Raw bytes on the raw topic: each case its outcome.
      const rawGot = [...raw, ...specials].map((c) => {
        const r = records.find((x) => x.label === c.name);
        return [c.name, r ? outcomeOf(`${r.partition}:${r.offset}`) : 'not on the topic'];
      });
      expect(rawGot).toEqual([...raw, ...specials].map((c) => [c.name, c.expect]));

      // Every valid event: scored exactly once (the accounting also found no problem at all).
      const scoredTwice = valid.filter((e) => warehouse.scores.filter((s) => s.eventId === e.eventId).length !== 1).map((e) => e.eventId);
      expect(scoredTwice, 'valid events not scored exactly once').toEqual([]);

      // Raw bytes on the downstream topics: each bad record one dead letter with its reason, each valid one landed once.
      const downGot = downstream.map(({ topic, c, at: where }) => {
        if (c.expect === 'scored') {
          const id = JSON.parse(c.value.toString()).eventId as string;
          return [c.name, all.scores.filter((s) => s.featureEventId === id).length === 1 ? 'scored' : 'not scored once'];
        }
        const letters = all.deadLetters.filter((d) => (d.sourceTopic === topic || d.sourceTopic === `${current.prefix}${topic}`) && d.sourcePartition === where.partition && d.sourceOffset === where.offset);
        return [c.name, letters.length === 1 ? letters[0]!.reason : `${letters.length} dead letters`];
      });
      expect(downGot).toEqual(downstream.map(({ c }) => [c.name, c.expect]));
      const landedOnce = (ids: Set<string>, rows: number[]) => rows.filter((n) => n !== 1).length === 0 && rows.length === ids.size;
      expect(landedOnce(injected.vectorIds, [...injected.vectorIds].map((id) => all.scores.filter((s) => s.featureEventId === id).length))).toBe(true);
      expect(landedOnce(injected.scoreIds, [...injected.scoreIds].map((id) => all.scores.filter((s) => s.scoreId === id).length))).toBe(true);
      expect(landedOnce(injected.letterIds, [...injected.letterIds].map((id) => all.deadLetters.filter((d) => d.deadLetterId === id).length))).toBe(true);

      // The figure behind "no partition stalled": how long the valid events waited, publication to score.
      const scoredAt = new Map(all.scores.map((s) => [s.eventId, s.scoredAt]));
      const waits = records.filter((r) => r.eventId !== null && scoredAt.has(r.eventId)).map((r) => scoredAt.get(r.eventId!)! - r.timestamp);
      const kinds = raw.length + doorCases.length + fhir.length + downstream.length + specials.length;
      say(`poison suite: ${kinds} bad or odd records (${raw.length} raw, ${doorCases.length} POST /events, ${fhir.length} FHIR, ${downstream.length} downstream, ${specials.length} stateful); valid events waited at most ${Math.max(...waits)} ms to be scored (median ${waits.sort((a, b) => a - b)[Math.floor(waits.length / 2)]} ms)`);
      expect(raw.length + fhir.length + downstream.length).toBeGreaterThanOrEqual(100);
    } finally {
      watching = false;
      await producer.disconnect();
      await bus.close();
    }
  });
});
