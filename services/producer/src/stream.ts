// Streams events to the bus in delivery order at a chosen pace: as fast as the bus takes
// them, ×N of event time, or N events per second. Publishing awaits each batch, so one
// patient's events reach its partition in the order they were read.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RawEvent } from '@ehr/features';
import { iso } from '@ehr/cohort';

export type Pace = { kind: 'max' } | { kind: 'speed'; factor: number } | { kind: 'rate'; perSecond: number };

export function describePace(pace: Pace): string {
  return pace.kind === 'max' ? 'as fast as possible' : pace.kind === 'speed' ? `×${pace.factor} of event time` : `${pace.perSecond} events/s`;
}

/** `max`, `60`, `x60` or `60x` → a pace. */
export function parseSpeed(value: string | number): Pace {
  if (value === 'max') return { kind: 'max' };
  const n = typeof value === 'number' ? value : Number(String(value).replace(/^x|x$/gi, ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`speed must be a positive number or max, got ${JSON.stringify(value)}`);
  return { kind: 'speed', factor: n };
}

export interface StreamProgress {
  published: number;
  /** Delivery time (event clock) of the last published event. */
  eventTime: string | null;
  elapsedMs: number;
  done: boolean;
}

export interface StreamOptions {
  /** In delivery order; an event's delivery time is its `producedAt` as the source wrote it. */
  events: AsyncIterable<RawEvent> | Iterable<RawEvent>;
  pace: Pace;
  publish: (events: RawEvent[]) => Promise<void>;
  signal?: AbortSignal;
  /** Move event times so that the first event is delivered at this time (epoch ms); omit to keep them. */
  shiftTo?: number;
  /** Stamp `producedAt` with the wall clock at publication (default true). */
  stampProducedAt?: boolean;
  /** Most events per publish (default 500). */
  batchSize?: number;
  /** Never publish an event (after the shift) before its own time has come on the wall clock. */
  holdAtWallClock?: boolean;
  onProgress?: (progress: StreamProgress) => void;
  now?: () => number;
}

const shifted = (e: RawEvent, offset: number): RawEvent =>
  offset === 0 ? e : ({ ...e, occurredAt: iso(Date.parse(e.occurredAt) + offset), producedAt: iso(Date.parse(e.producedAt) + offset) });

/** Runs until the source ends or the signal aborts; resolves with the final progress. */
export async function streamEvents(options: StreamOptions): Promise<StreamProgress> {
  const now = options.now ?? (() => Date.now());
  const batchSize = options.batchSize ?? 500;
  const stamp = options.stampProducedAt ?? true;
  const started = now();
  const progress: StreamProgress = { published: 0, eventTime: null, elapsedMs: 0, done: false };
  let buffer: RawEvent[] = [];
  let first: number | null = null;
  let offset = 0;
  let index = 0;

  const flush = async () => {
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    if (stamp) {
      const at = iso(Math.floor(now() / 1000) * 1000);
      for (let i = 0; i < batch.length; i++) batch[i] = { ...batch[i]!, producedAt: at };
    }
    await options.publish(batch);
    progress.published += batch.length;
    progress.elapsedMs = now() - started;
    options.onProgress?.({ ...progress });
  };

  for await (const raw of options.events) {
    if (options.signal?.aborted) break;
    const delivered = Date.parse(raw.producedAt);
    if (first === null) {
      first = delivered;
      if (options.shiftTo !== undefined) offset = options.shiftTo - delivered;
    }
    const due =
      options.pace.kind === 'max' ? -Infinity : options.pace.kind === 'speed' ? started + (delivered - first) / options.pace.factor : started + (index * 1000) / options.pace.perSecond;
    index++;
    const event = shifted(raw, offset);
    const wait = Math.max(due, options.holdAtWallClock ? Date.parse(event.occurredAt) : -Infinity) - now();
    // Events due within a few milliseconds go in the same batch.
    if (wait > 20) {
      await flush();
      try {
        await sleep(wait, undefined, options.signal ? { signal: options.signal } : {});
      } catch {
        break;
      }
    }
    progress.eventTime = event.producedAt;
    buffer.push(event);
    if (buffer.length >= batchSize) await flush();
  }
  if (!options.signal?.aborted) await flush();
  progress.done = !options.signal?.aborted;
  progress.elapsedMs = now() - started;
  options.onProgress?.({ ...progress });
  return progress;
}
