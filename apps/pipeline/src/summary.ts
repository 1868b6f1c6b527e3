// The live one-line summary `npm start` prints: events/s, patients on the ward, patients
// per band, and rows in the warehouse. It reads the bus like any other consumer (its own
// groups, from now on), so it sees what the services see without reaching into them.
import { decodeSeverityScore, TOPICS, type SeverityBand, type SeverityScoreEvent } from '@ehr/features';
import type { Bus, Subscription } from '@ehr/bus';

export interface SummaryOptions {
  bus: Bus;
  /** Prints one summary. On a terminal the caller rewrites the line in place. */
  show: (line: string) => void;
  intervalMs: number;
  /** Base URL of the sink, for the warehouse row count (from its metrics). */
  sinkUrl?: string;
  /** A patient leaves the count after this long without a new score (wall clock). */
  patientTtlMs?: number;
  /** Patients remembered at most (default SUMMARY_MAX_PATIENTS); past it the one scored longest ago is forgotten. */
  maxPatients?: number;
  now?: () => number;
  /** Told once, the moment the first score lands (npm start prints it before the first summary). */
  onFirstScore?: (line: string) => void;
}

/**
 * The summary keeps each patient's latest band until the TTL, and walks them all on every
 * tick. A flood of new patient ids within the TTL (a replay, a broken producer) would grow
 * that without bound, so it holds at most this many, forgetting the one scored longest ago
 * first: far more than any ward or hospital has at once, and cheap to walk every 2 s.
 */
export const SUMMARY_MAX_PATIENTS = 50_000;

export interface WardSummary {
  eventsPerSecond: number;
  patients: number;
  bands: Record<SeverityBand, number>;
  scores: number;
  warehouseRows: number | null;
}

export function formatSummary(s: WardSummary): string {
  const rows = s.warehouseRows === null ? '' : ` · warehouse ${s.warehouseRows.toLocaleString('en-GB')} rows`;
  return (
    `events/s ${s.eventsPerSecond.toFixed(1)} · patients ${s.patients} · low ${s.bands.low} · medium ${s.bands.medium} · high ${s.bands.high}` +
    ` · scores ${s.scores.toLocaleString('en-GB')}${rows}`
  );
}

/** The first score, without the patient's id: band, probability, NEWS2, and which model. */
export function formatFirstScore(score: Pick<SeverityScoreEvent['payload'], 'band' | 'probability' | 'news2' | 'model'>, seconds: number): string {
  const probability = score.probability === null ? 'NEWS2 only' : `probability ${score.probability.toFixed(2)}`;
  const model = score.model ? ` · ${score.model.name}@${score.model.version}` : '';
  return `first score ${seconds.toFixed(1)} s after the services started: band ${score.band} · ${probability} · NEWS2 ${score.news2 ?? '–'}${model}`;
}

async function warehouseRows(sinkUrl: string | undefined): Promise<number | null> {
  if (!sinkUrl) return null;
  try {
    const text = await (await fetch(`${sinkUrl}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
    const m = /^ehr_sink_rows_landed_total\{[^}]*table="severity_scores"[^}]*\} (\d+)/m.exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return null;
  }
}

export async function startSummary(options: SummaryOptions): Promise<{ stop(): Promise<void>; current(): Promise<WardSummary> }> {
  const now = options.now ?? Date.now;
  const ttl = options.patientTtlMs ?? 15 * 60_000;
  const maxPatients = options.maxPatients ?? SUMMARY_MAX_PATIENTS;
  // In order of each patient's last score, oldest first: a patient scored again moves to the end.
  const latest = new Map<string, { band: SeverityBand; at: number }>();
  const remember = (patient: string, band: SeverityBand) => {
    latest.delete(patient);
    latest.set(patient, { band, at: now() });
    if (latest.size > maxPatients) latest.delete(latest.keys().next().value!);
  };
  let events = 0;
  let scores = 0;
  let windowStart = now();
  let windowEvents = 0;
  const subs: Subscription[] = [];
  const group = `pipeline-summary-${process.pid}`;
  const startedAt = now();

  subs.push(
    await options.bus.subscribe({
      groupId: `${group}-events`,
      topics: [TOPICS.events],
      fromBeginning: false,
      handler: async ({ records }) => void (events += records.length),
    }),
  );
  subs.push(
    await options.bus.subscribe({
      groupId: `${group}-scores`,
      topics: [TOPICS.scores],
      fromBeginning: false,
      handler: async ({ records }) => {
        for (const r of records) {
          const s = decodeSeverityScore(r.value);
          if (!s.ok) continue;
          scores++;
          if (scores === 1) options.onFirstScore?.(formatFirstScore(s.value.payload, (now() - startedAt) / 1000));
          remember(s.value.patientId, s.value.payload.band);
        }
      },
    }),
  );

  const current = async (): Promise<WardSummary> => {
    const t = now();
    const bands: Record<SeverityBand, number> = { low: 0, medium: 0, high: 0 };
    for (const [patient, entry] of latest) {
      if (t - entry.at > ttl) latest.delete(patient);
      else bands[entry.band]++;
    }
    const seconds = Math.max(0.001, (t - windowStart) / 1000);
    const rate = (events - windowEvents) / seconds;
    windowStart = t;
    windowEvents = events;
    return { eventsPerSecond: rate, patients: latest.size, bands, scores, warehouseRows: await warehouseRows(options.sinkUrl) };
  };

  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void current()
      .then((s) => options.show(formatSummary(s)))
      .finally(() => {
        busy = false;
      });
  }, options.intervalMs);
  timer.unref();

  return {
    current,
    async stop() {
      clearInterval(timer);
      await Promise.all(subs.map((s) => s.stop()));
    },
  };
}
