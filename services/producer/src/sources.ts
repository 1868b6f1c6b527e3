// What the producer can stream: a synthetic ward (continuous admissions and discharges),
// a MEDS file (the MIMIC-IV demo) with times moved to now, or a cohort CSV directory.
import type { RawEvent } from '@ehr/features';
import { readCohort, readMeds, shiftMedsTimeline, wardStream } from '@ehr/cohort';
import { parseSpeed, type Pace } from './stream.js';

export type SourceKind = 'synthetic' | 'meds' | 'csv';

export interface SourceSpec {
  kind: SourceKind;
  /** meds: the parquet file; csv: the cohort directory. */
  file?: string;
  /** synthetic: seed, beds, artefact rate, and how many simulated hours (default: endless). */
  seed?: number;
  census?: number;
  artefactRate?: number;
  hours?: number;
  /** Pace: events per second (default for synthetic, 50), or ×N / max (default for replays, ×60). */
  rate?: number;
  speed?: number | 'max';
  /** Move replayed times so the stream starts now (default true). */
  shift?: boolean;
}

export interface OpenedSource {
  events: AsyncIterable<RawEvent> | Iterable<RawEvent>;
  pace: Pace;
  shiftTo?: number;
  /** For logs: what is streaming, without patient data. */
  description: string;
}

function* eventsOf<T extends { event: RawEvent }>(records: Iterable<T>): Generator<RawEvent> {
  for (const r of records) yield r.event;
}

export const DEMO_RATE = 50;
export const REPLAY_SPEED = 60;

export async function openSource(spec: SourceSpec, now: number = Date.now()): Promise<OpenedSource> {
  const replayPace = (): Pace => (spec.speed !== undefined ? parseSpeed(spec.speed) : spec.rate !== undefined ? { kind: 'rate', perSecond: spec.rate } : { kind: 'speed', factor: REPLAY_SPEED });
  switch (spec.kind) {
    case 'synthetic': {
      const seed = spec.seed ?? 1;
      const census = spec.census ?? 300;
      const events = eventsOf(wardStream({ seed, census, start: now, artefactRate: spec.artefactRate ?? 0.01, ...(spec.hours !== undefined ? { hours: spec.hours } : {}) }));
      const pace: Pace = spec.speed !== undefined ? parseSpeed(spec.speed) : { kind: 'rate', perSecond: spec.rate ?? DEMO_RATE };
      return { events, pace, description: `synthetic ward (seed ${seed}, ${census} beds${spec.hours !== undefined ? `, ${spec.hours} h` : ''})` };
    }
    case 'meds': {
      if (!spec.file) throw new Error('the meds source needs a file (the MEDS parquet)');
      const data = await readMeds(spec.file);
      const events =
        spec.shift === false
          ? [...data.events].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt))
          : shiftMedsTimeline(data, { startMs: now });
      return { events, pace: replayPace(), description: `MEDS replay (${data.patients.length} patients, ${events.length} events)` };
    }
    case 'csv': {
      if (!spec.file) throw new Error('the csv source needs a cohort directory');
      const cohort = await readCohort(spec.file, { source: 'csv' });
      return { events: cohort.events, pace: replayPace(), ...(spec.shift === false ? {} : { shiftTo: now }), description: `cohort CSV replay (${cohort.patients.length} patients)` };
    }
  }
}
