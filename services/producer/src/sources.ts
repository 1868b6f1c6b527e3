// What the producer can stream: a synthetic ward (continuous admissions and discharges),
// a MEDS file (the MIMIC-IV demo) with times moved to now, a cohort CSV directory, or
// PhysioNet/CinC 2019 ICU stays (the packed parquet or a directory of .psv files).
import type { DeadLetter, RawEvent } from '@ehr/features';
import { physionetStays, readCohort, readMeds, readPhysioNet, shiftMedsTimeline, wardStream } from '@ehr/cohort';
import { csvRejects } from './csv-rejects.js';
import { parseSpeed, type Pace } from './stream.js';

export type SourceKind = 'synthetic' | 'meds' | 'csv' | 'physionet';

export interface SourceSpec {
  kind: SourceKind;
  /** meds: the parquet file; csv: the cohort directory; physionet: the parquet, a .psv directory or file. */
  file?: string;
  /** physionet: how many stays (the first ones; default 100) and minutes between their starts (default 30). */
  stays?: number;
  staggerMinutes?: number;
  /**
   * csv: where the rows the reader refuses go, as dead letters naming the file and line
   * (awaited; the replay goes on with the next row). Without it the first such row fails
   * the source, naming the file and line.
   */
  deadLetter?: (letters: DeadLetter[]) => Promise<void>;
  /** Where warnings go (physionet: columns the mapping does not know). */
  warn?: (message: string) => void;
  /** synthetic: seed, beds, artefact rate, and how many simulated hours (default: endless). */
  seed?: number;
  census?: number;
  artefactRate?: number;
  hours?: number;
  /** Pace: events per second (default for synthetic, 50), or ×N / max (default for replays, ×60). */
  rate?: number;
  speed?: number | 'max';
  /** Move replayed times so that no event is ahead of the wall clock when it is published, and the replay ends about now (default true). */
  shift?: boolean;
  /** synthetic: start the ward this many hours in the past (default 24): it streams at its rate until it reaches the wall clock. */
  backfillHours?: number;
}

export interface OpenedSource {
  events: AsyncIterable<RawEvent> | Iterable<RawEvent>;
  pace: Pace;
  shiftTo?: number;
  /** For logs: what is streaming, without patient data. */
  description: string;
  /** How many events the source holds, when known before streaming (replays read into memory). */
  total?: number;
}

function* eventsOf<T extends { event: RawEvent }>(records: Iterable<T>): Generator<RawEvent> {
  for (const r of records) yield r.event;
}

export const DEMO_RATE = 50;
export const REPLAY_SPEED = 60;
export const PHYSIONET_REPLAY_STAYS = 100;

export async function openSource(spec: SourceSpec, now: number = Date.now()): Promise<OpenedSource> {
  const replayPace = (): Pace => (spec.speed !== undefined ? parseSpeed(spec.speed) : spec.rate !== undefined ? { kind: 'rate', perSecond: spec.rate } : { kind: 'speed', factor: REPLAY_SPEED });
  switch (spec.kind) {
    case 'synthetic': {
      const seed = spec.seed ?? 1;
      const census = spec.census ?? 300;
      // An accelerated ward that starts now would date its events ahead of the wall clock at
      // once (future_event): it starts in the past instead and catches up.
      const start = now - (spec.backfillHours ?? 24) * 3_600_000;
      const events = eventsOf(wardStream({ seed, census, start, artefactRate: spec.artefactRate ?? 0.01, ...(spec.hours !== undefined ? { hours: spec.hours } : {}) }));
      const pace: Pace = spec.speed !== undefined ? parseSpeed(spec.speed) : { kind: 'rate', perSecond: spec.rate ?? DEMO_RATE };
      return { events, pace, description: `synthetic ward (seed ${seed}, ${census} beds${spec.hours !== undefined ? `, ${spec.hours} h` : ''})` };
    }
    case 'meds': {
      if (!spec.file) throw new Error('the meds source needs a file (the MEDS parquet)');
      const data = await readMeds(spec.file, spec.warn ? { warn: spec.warn } : {});
      const pace = replayPace();
      if (spec.shift === false) {
        const events = [...data.events].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
        return { events, pace, total: events.length, description: `MEDS replay (${data.patients.length} patients, ${events.length} events)` };
      }
      const events = shiftMedsTimeline(data, { startMs: now });
      return { events, pace, total: events.length, shiftTo: await replayStart(events, pace, now), description: `MEDS replay (${data.patients.length} patients, ${events.length} events)` };
    }
    case 'physionet': {
      if (!spec.file) throw new Error('the physionet source needs the data (the packed parquet or a directory of .psv files)');
      const table = await readPhysioNet(spec.file, spec.warn ? { warn: spec.warn } : {});
      const count = Math.min(table.stays.length, spec.stays ?? PHYSIONET_REPLAY_STAYS);
      // Stays start staggered from now (or from the Challenge's anchor when not shifted); one stream in event-time order.
      const start = spec.shift === false ? undefined : now;
      const timed: { t: number; k: number; e: RawEvent }[] = [];
      let k = 0;
      for (const stay of physionetStays(table, { stays: Array.from({ length: count }, (_, i) => i), staggerMinutes: spec.staggerMinutes ?? 30, ...(start !== undefined ? { start } : {}) })) {
        for (const e of stay.events) timed.push({ t: Date.parse(e.occurredAt), k: k++, e });
      }
      timed.sort((a, b) => a.t - b.t || a.k - b.k);
      const events = timed.map((x) => x.e);
      const pace = replayPace();
      return { events, pace, total: events.length, ...(start === undefined ? {} : { shiftTo: await replayStart(events, pace, now) }), description: `PhysioNet/CinC 2019 replay (${count} of ${table.stays.length} ICU stays, ${timed.length} events)` };
    }
    case 'csv': {
      if (!spec.file) throw new Error('the csv source needs a cohort directory');
      // A bad row is dead-lettered (given where) and the replay goes on; patients.csv and labels.csv rows are read here.
      const rejects = spec.deadLetter ? csvRejects(spec.deadLetter) : null;
      const cohort = await readCohort(spec.file, { source: 'csv', ...(rejects ? { onRejectedRow: (r) => rejects.reject(r) } : {}) });
      await rejects?.flush();
      const pace = replayPace();
      const timing = () => replayStart(cohort.events, pace, now);
      const shiftTo = spec.shift === false ? undefined : await (rejects ? rejects.scan(timing) : timing());
      const events = rejects ? rejects.around(cohort.events) : cohort.events;
      return { events, pace, ...(shiftTo === undefined ? {} : { shiftTo }), description: `cohort CSV replay (${cohort.patients.length} patients)` };
    }
  }
}

/**
 * Where a replay's first delivery goes (`shiftTo`) so that every event, moved by the same
 * amount, is dated no later than the wall clock when its pace publishes it: at ×N the
 * replay ends about now, at `max` every event is in the past. (Starting at now, a ×60
 * replay would date its second hour an hour ahead of the wall clock.)
 */
export async function replayStart(events: Iterable<RawEvent> | AsyncIterable<RawEvent>, pace: Pace, now: number): Promise<number> {
  // A pass of its own over the source (the cohort CSVs are read again when streamed).
  let first: number | null = null;
  let start = Infinity;
  let i = 0;
  for await (const e of events) {
    first ??= Date.parse(e.producedAt);
    const delivered = Date.parse(e.producedAt) - first;
    const publishedAt = pace.kind === 'max' ? 0 : pace.kind === 'speed' ? delivered / pace.factor : (i * 1000) / pace.perSecond;
    start = Math.min(start, now + publishedAt - (Date.parse(e.occurredAt) - first));
    i++;
  }
  return first === null ? now : Math.floor(start);
}
