// Every raw event published is accounted for, exactly. The ground truth of what was
// published is the raw-event topic itself (read back record by record), not what a test
// meant to send: a producer that wrote a batch twice, or a client that retried, shows up
// there and must be accounted for like anything else.
//
// A raw record (topic partition p, offset o, event id E when it has one) is exactly one of:
//   (a) scored: a row in severity_scores whose event_id (the score's trigger event) is E,
//       claimed by the first record of E that was not dead-lettered;
//   (b) dead-lettered: a row in dead_letters whose source is (events topic, p, o), or a
//       downstream dead letter (a vector scoring rejected, a score the sink rejected) whose
//       original message was triggered by E;
//   (c) a duplicate: a later record of an event id E already scored (the feature service
//       counts it in ehr_feature_duplicates_total and emits nothing);
//   (d) merged by the debounce — not possible here: the tests run with the default policy
//       (every event type triggers, FEATURE_DEBOUNCE_SECONDS=0), under which every event
//       accepted into a patient's state emits exactly one vector, whose triggerEventId is
//       that event (see @ehr/features' engine: shouldEmit).
// Anything else is a failure: a record with no outcome, a record with two, a score or a
// dead letter that traces to nothing published, a score_id twice, an event scored twice,
// a dead letter twice for one source record.

import { jsonPartOf } from '@ehr/features';

/** One record read back from the raw-event topic. */
export interface InputRecord {
  partition: number;
  offset: string;
  /** The envelope's eventId when the value is a JSON object carrying a string one. */
  eventId: string | null;
  /** Its patientId, likewise (to find what became of an event a door accepted). */
  patientId?: string | null;
  /** Broker (create) time, epoch ms: when it was published. */
  timestamp: number;
  /** The record's `e2e-case` header, when a test labelled what it injected. */
  label?: string;
}

export interface ScoreRowLite {
  scoreId: string;
  /** The raw event that triggered the score. */
  eventId: string;
  featureEventId: string | null;
}

export interface DeadLetterRowLite {
  deadLetterId: string;
  service: string;
  reason: string;
  sourceTopic: string | null;
  sourcePartition: number | null;
  sourceOffset: string | null;
  originalEventId: string | null;
  /** base64 of the rejected message (to trace a rejected vector or score to its trigger). */
  originalBytes: string | null;
}

export type Outcome = 'scored' | 'dead_lettered' | 'duplicate';

export interface AccountingProblem {
  kind:
    | 'unaccounted'
    | 'scored_and_dead_lettered'
    | 'score_without_input'
    | 'dead_letter_without_input'
    | 'duplicate_score_id'
    | 'event_scored_twice'
    | 'duplicate_dead_letter_id'
    | 'source_dead_lettered_twice';
  detail: string;
}

export interface Accounting {
  published: number;
  scored: number;
  deadLettered: number;
  duplicates: number;
  /** Dead letters by `service/reason`, counting raw records (what was injected, what came out). */
  deadLettersByReason: Record<string, number>;
  /** Distinct event ids published (records with an id). */
  distinctEventIds: number;
  scoreRows: number;
  deadLetterRows: number;
  problems: AccountingProblem[];
  /** The outcome of every record, `partition:offset` → outcome (for targeted assertions). */
  outcomes: Map<string, Outcome>;
}

export interface AccountingOptions {
  /** Names the raw-event topic can have in a dead letter's source (logical and on the wire). */
  eventsTopics: readonly string[];
  /** Stop listing problems of one kind past this many (the counts stay exact). */
  maxProblemsPerKind?: number;
}

const position = (partition: number | null, offset: string | null) => `${partition}:${offset}`;

/** The event that triggered a rejected vector or score, read from the dead letter's original bytes. */
export function tracedTrigger(letter: DeadLetterRowLite): string | null {
  if (!letter.originalBytes) return null;
  try {
    const value = JSON.parse(Buffer.from(jsonPartOf(Buffer.from(letter.originalBytes, 'base64'))).toString('utf8')) as { payload?: { triggerEventId?: unknown } };
    const id = value?.payload?.triggerEventId;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

export function account(records: readonly InputRecord[], scores: readonly ScoreRowLite[], deadLetters: readonly DeadLetterRowLite[], options: AccountingOptions): Accounting {
  const max = options.maxProblemsPerKind ?? 20;
  const problems: AccountingProblem[] = [];
  const perKind = new Map<string, number>();
  const problem = (kind: AccountingProblem['kind'], detail: string) => {
    const n = (perKind.get(kind) ?? 0) + 1;
    perKind.set(kind, n);
    if (n <= max) problems.push({ kind, detail });
  };
  const eventsTopics = new Set(options.eventsTopics);

  // Scores: no score_id twice, no trigger event twice.
  const scoreByEvent = new Map<string, ScoreRowLite>();
  const scoreIds = new Set<string>();
  for (const s of scores) {
    if (scoreIds.has(s.scoreId)) problem('duplicate_score_id', `score_id ${s.scoreId} appears more than once`);
    scoreIds.add(s.scoreId);
    if (scoreByEvent.has(s.eventId)) problem('event_scored_twice', `event ${s.eventId} has more than one score row`);
    else scoreByEvent.set(s.eventId, s);
  }

  // Dead letters: of raw records by source position; downstream ones by the trigger they carry.
  const rawLetters = new Map<string, DeadLetterRowLite>();
  const downstreamByTrigger = new Map<string, DeadLetterRowLite>();
  const letterIds = new Set<string>();
  const untraced: DeadLetterRowLite[] = [];
  for (const d of deadLetters) {
    if (letterIds.has(d.deadLetterId)) problem('duplicate_dead_letter_id', `dead_letter_id ${d.deadLetterId} appears more than once`);
    letterIds.add(d.deadLetterId);
    if (d.sourceTopic !== null && eventsTopics.has(d.sourceTopic)) {
      const key = position(d.sourcePartition, d.sourceOffset);
      if (rawLetters.has(key)) problem('source_dead_lettered_twice', `raw record ${key} has more than one dead letter`);
      else rawLetters.set(key, d);
      continue;
    }
    const trigger = tracedTrigger(d);
    if (trigger) downstreamByTrigger.set(trigger, d);
    else untraced.push(d);
  }

  const outcomes = new Map<string, Outcome>();
  const byReason: Record<string, number> = {};
  const claimed = new Set<string>();
  const usedLetters = new Set<string>();
  const ids = new Set<string>();
  let scored = 0;
  let deadLettered = 0;
  let duplicates = 0;
  // Offset order within a partition; one patient (one key) stays on one partition.
  const ordered = [...records].sort((a, b) => a.partition - b.partition || compareOffsets(a.offset, b.offset));
  for (const r of ordered) {
    const key = position(r.partition, r.offset);
    if (r.eventId) ids.add(r.eventId);
    const letter = rawLetters.get(key);
    if (letter) {
      // A score of the same event id must be claimed by another record of it (else it is
      // reported below as a score without input: scored and dead-lettered at once).
      usedLetters.add(letter.deadLetterId);
      outcomes.set(key, 'dead_lettered');
      deadLettered++;
      const label = `${letter.service}/${letter.reason}`;
      byReason[label] = (byReason[label] ?? 0) + 1;
      continue;
    }
    const firstClaim = r.eventId !== null && scoreByEvent.has(r.eventId) && !claimed.has(r.eventId);
    const downstream = r.eventId && !claimed.has(r.eventId) ? downstreamByTrigger.get(r.eventId) : undefined;
    if (firstClaim) {
      claimed.add(r.eventId!);
      if (downstream) usedLetters.add(downstream.deadLetterId);
      if (downstream) problem('scored_and_dead_lettered', `event ${r.eventId} was scored and its vector or score was also dead-lettered (${downstream.reason})`);
      outcomes.set(key, 'scored');
      scored++;
      continue;
    }
    if (downstream) {
      claimed.add(r.eventId!);
      usedLetters.add(downstream.deadLetterId);
      outcomes.set(key, 'dead_lettered');
      deadLettered++;
      const label = `${downstream.service}/${downstream.reason}`;
      byReason[label] = (byReason[label] ?? 0) + 1;
      continue;
    }
    if (r.eventId && claimed.has(r.eventId)) {
      outcomes.set(key, 'duplicate');
      duplicates++;
      continue;
    }
    problem('unaccounted', `raw record ${key} (event ${r.eventId ?? 'without an id'}) is neither scored, dead-lettered, nor a duplicate of a scored event`);
  }

  for (const [eventId] of scoreByEvent) {
    if (!claimed.has(eventId)) problem('score_without_input', `a score row traces to event ${eventId}, which was not published (or only dead-lettered)`);
  }
  for (const d of deadLetters) {
    if (!usedLetters.has(d.deadLetterId)) {
      problem('dead_letter_without_input', `dead letter ${d.deadLetterId} (${d.service}/${d.reason}, source ${d.sourceTopic} ${position(d.sourcePartition, d.sourceOffset)}) traces to no published record`);
    }
  }
  for (const [kind, n] of perKind) if (n > max) problems.push({ kind: kind as AccountingProblem['kind'], detail: `… and ${n - max} more of this kind` });

  return {
    published: records.length,
    scored,
    deadLettered,
    duplicates,
    deadLettersByReason: byReason,
    distinctEventIds: ids.size,
    scoreRows: scores.length,
    deadLetterRows: deadLetters.length,
    problems,
    outcomes,
  };
}

function compareOffsets(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** One line for a test's failure message or a report. */
export function summarize(a: Accounting): string {
  const reasons = Object.entries(a.deadLettersByReason)
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `published ${a.published} = scored ${a.scored} + dead-lettered ${a.deadLettered} (${reasons || 'none'}) + duplicates ${a.duplicates}; rows: ${a.scoreRows} scores, ${a.deadLetterRows} dead letters; ${a.problems.length} problems`;
}
