import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCohort, writeCohort } from '@ehr/cohort';
import type { RawEvent } from '@ehr/features';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, openSource, parseSpeed, replayStart, sourceSpecFromConfig, streamEvents } from '../src/index.js';
import { MemoryBus } from '@ehr/bus';
import { decodeDeadLetter, TOPICS } from '@ehr/features';
import { createMetricsRegistry } from '@ehr/runtime';
import { createEventPublisher } from '../src/publisher.js';
import { drain, startProducer } from './helpers.js';

const cohort = generateCohort({ seed: 11, patients: 12, hours: 24, artefactRate: 0.02 });
const events = cohort.events.map((r) => r.event);
const dir = mkdtempSync(join(tmpdir(), 'producer-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fake clock: sleeping is not needed when time only moves when asked. */
function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('streamEvents', () => {
  it('publishes everything in order, at max pace, in batches', async () => {
    const batches: RawEvent[][] = [];
    const result = await streamEvents({ events, pace: { kind: 'max' }, publish: async (b) => void batches.push(b), batchSize: 100, stampProducedAt: false });
    expect(result).toMatchObject({ published: events.length, done: true });
    expect(batches.flat()).toEqual(events);
    expect(Math.max(...batches.map((b) => b.length))).toBe(100);
  });

  it('moves times so the first event is delivered at shiftTo, and stamps producedAt with the wall clock', async () => {
    const clock = fakeClock(Date.parse('2030-06-01T12:00:00Z'));
    const out: RawEvent[] = [];
    await streamEvents({ events: events.slice(0, 50), pace: { kind: 'max' }, shiftTo: clock.now(), now: clock.now, publish: async (b) => void out.push(...b) });
    const offset = Date.parse('2030-06-01T12:00:00Z') - Date.parse(events[0]!.producedAt);
    expect(out[0]!.producedAt).toBe('2030-06-01T12:00:00Z');
    out.forEach((e, i) => expect(Date.parse(e.occurredAt) - Date.parse(events[i]!.occurredAt)).toBe(offset));
    expect(out.map((e) => e.eventId)).toEqual(events.slice(0, 50).map((e) => e.eventId));
  });

  it('stops when aborted', async () => {
    const abort = new AbortController();
    let published = 0;
    const result = await streamEvents({
      events,
      pace: { kind: 'rate', perSecond: 1000 },
      signal: abort.signal,
      publish: async (b) => {
        published += b.length;
        if (published >= 5) abort.abort();
      },
    });
    expect(result.done).toBe(false);
    expect(result.published).toBeLessThan(events.length);
  });

  it('parses speeds', () => {
    expect(parseSpeed('max')).toEqual({ kind: 'max' });
    expect(parseSpeed('x60')).toEqual({ kind: 'speed', factor: 60 });
    expect(parseSpeed('10')).toEqual({ kind: 'speed', factor: 10 });
    expect(() => parseSpeed('fast')).toThrow(/speed/);
  });
});

describe('sources', () => {
  it('replays a cohort CSV directory in stream order', async () => {
    await writeCohort(dir, { meta: cohort.meta, patients: cohort.patients, events: cohort.events });
    const now = Date.parse('2030-01-01T00:00:00Z');
    const opened = await openSource({ kind: 'csv', file: dir, speed: 'max' }, now);
    const out: RawEvent[] = [];
    await streamEvents({ ...opened, shiftTo: opened.shiftTo!, publish: async (b) => void out.push(...b) });
    expect(out.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    // All at once (max): every event is moved into the past, the latest to now.
    expect(Math.max(...out.map((e) => Date.parse(e.occurredAt)))).toBe(now);
    expect(out.every((e, i) => Date.parse(e.occurredAt) - Date.parse(events[i]!.occurredAt) === now - Math.max(...events.map((x) => Date.parse(x.occurredAt))))).toBe(true);
    expect(new Set(out.map((e) => e.source))).toEqual(new Set(['csv']));
  });

  it('a ×60 replay never dates an event ahead of the wall clock when it is published, and ends about now', async () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const pace = { kind: 'speed', factor: 60 } as const;
    const start = await replayStart(events, pace, now);
    const first = Date.parse(events[0]!.producedAt);
    const offset = start - first;
    let latest = -Infinity;
    for (const e of events) {
      const publishedAt = now + (Date.parse(e.producedAt) - first) / 60;
      const dated = Date.parse(e.occurredAt) + offset;
      expect(dated).toBeLessThanOrEqual(publishedAt);
      latest = Math.max(latest, dated - publishedAt);
    }
    // Tight: some event is published right at its (moved) time.
    expect(latest).toBeGreaterThan(-1000);
  });

  it('holds an event at the wall clock when its (moved) time has not come yet', async () => {
    const clock = fakeClock(Date.parse('2030-01-01T00:00:00Z'));
    const future = { ...events[0]!, occurredAt: new Date(clock.now() + 50).toISOString() };
    const out: RawEvent[] = [];
    const started = Date.now();
    await streamEvents({ events: [events[1]!, future], pace: { kind: 'max' }, holdAtWallClock: true, now: () => clock.now() + (Date.now() - started), publish: async (b) => void out.push(...b), stampProducedAt: false });
    expect(out).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  it('the synthetic ward starts in the past (PRODUCER_BACKFILL_HOURS) so that its accelerated clock is never ahead', async () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const opened = await openSource({ kind: 'synthetic', seed: 2, census: 10, backfillHours: 24, hours: 2 }, now);
    const times: number[] = [];
    for await (const e of opened.events) times.push(Date.parse(e.occurredAt));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(now - 24 * 3_600_000 - 3 * 24 * 3_600_000);
    expect(Math.max(...times)).toBeLessThanOrEqual(now - 22 * 3_600_000);
  });

  it('a streamed event that is ahead of the wall clock all the same is dead-lettered as future_event, not published', async () => {
    const bus = new MemoryBus();
    const publisher = createEventPublisher(bus, createMetricsRegistry('producer-test', { defaultMetrics: false }));
    const now = Date.parse(events[5]!.occurredAt);
    await publisher.publishChecked(events.slice(0, 10), { now: () => now, maxFutureSkewMs: 0 });
    const letters: string[] = [];
    const published: string[] = [];
    const subs = [
      await bus.subscribe({ groupId: 'l', topics: [TOPICS.deadLetter], handler: async ({ records }) => void letters.push(...records.map((r) => r.value.toString())) }),
      await bus.subscribe({ groupId: 'p', topics: [TOPICS.events], handler: async ({ records }) => void published.push(...records.map((r) => r.value.toString())) }),
    ];
    const later = events.slice(0, 10).filter((e) => Date.parse(e.occurredAt) > now).length;
    while (letters.length + published.length < 10) await new Promise((r) => setTimeout(r, 10));
    await Promise.all(subs.map((s) => s.stop()));
    expect(later).toBeGreaterThan(0);
    expect(letters.map((l) => decodeDeadLetter(l)).map((d) => d.ok && [d.value.reason, d.value.service])).toEqual(Array(later).fill(['future_event', 'producer']));
    expect(published).toHaveLength(10 - later);
  });

  it('reads the producer config: none by default, synthetic demo at 50 events/s, a file for replays', () => {
    expect(sourceSpecFromConfig(loadConfig({}))).toBeNull();
    expect(sourceSpecFromConfig(loadConfig({ PRODUCER_SOURCE: 'synthetic' }))).toMatchObject({ kind: 'synthetic', rate: 50, seed: 1, census: 300 });
    expect(sourceSpecFromConfig(loadConfig({ PRODUCER_SOURCE: 'meds', PRODUCER_FILE: '/x.parquet', PRODUCER_SPEED: 'max' }))).toMatchObject({ kind: 'meds', file: '/x.parquet', speed: 'max' });
    expect(sourceSpecFromConfig(loadConfig({ PRODUCER_SOURCE: 'csv', PRODUCER_FILE: 'd', PRODUCER_SPEED: '120' }))).toMatchObject({ speed: 120 });
    expect(() => loadConfig({ PRODUCER_SOURCE: 'meds' })).toThrow(/PRODUCER_FILE/);
    expect(() => loadConfig({ PRODUCER_SOURCE: 'kafka' })).toThrow(/PRODUCER_SOURCE/);
  });
});

describe('producer service with PRODUCER_SOURCE=synthetic', () => {
  it('streams the ward keyed by patient while it runs, reports it in readiness, and stops cleanly', async () => {
    const producer = await startProducer({ PRODUCER_SOURCE: 'synthetic', PRODUCER_RATE: '2000', PRODUCER_CENSUS: '20', PRODUCER_SEED: '3' });
    try {
      const got = await drain(producer.bus, 300);
      expect(got.length).toBeGreaterThanOrEqual(300);
      for (const r of got) expect(r.key).toBe(r.event.patientId);
      // The ward opens with the patients already there: their admissions come first.
      expect(got.filter((r) => r.event.schema === 'admission').length).toBeGreaterThanOrEqual(20);
      const ready = (await producer.service.app.inject('/health/ready')).json();
      expect(ready.dependencies.source).toMatchObject({ state: 'up', critical: false, detail: expect.stringContaining('synthetic ward') });
      const metrics = (await producer.service.app.inject('/metrics')).body;
      expect(metrics).toMatch(/ehr_producer_events_published_total\{[^}]*source="synthetic"[^}]*\} \d+/);
    } finally {
      await producer.stop();
    }
  });

  it('reports a source that cannot start as down, and keeps serving', async () => {
    const producer = await startProducer({ PRODUCER_SOURCE: 'meds', PRODUCER_FILE: '/nonexistent.parquet' });
    try {
      let ready = (await producer.service.app.inject('/health/ready')).json();
      for (let i = 0; i < 100 && ready.dependencies.source.state !== 'down'; i++) {
        await new Promise((r) => setTimeout(r, 20));
        ready = (await producer.service.app.inject('/health/ready')).json();
      }
      expect(ready).toMatchObject({ status: 'degraded', dependencies: { source: { state: 'down', detail: expect.stringContaining('not found') } } });
    } finally {
      await producer.stop();
    }
  });
});
