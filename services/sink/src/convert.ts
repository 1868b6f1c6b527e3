// A cut's records → warehouse rows, one record at a time, so that no record can take the
// others down: a score that does not decode goes to the dead-letter topic (as before), a
// row outside the warehouse's bounds and a record whose conversion keeps throwing become
// the sink's own dead letters, and the partition moves on. Alert events go the way scores do.
import {
  buildDeadLetter,
  decodeAlertEvent,
  decodeDeadLetter,
  decodeSeverityScoreValues,
  triage,
  type DeadLetter,
  type SeverityScoreEvent,
  type Validation,
} from '@ehr/features';
import { errorMessage } from '@ehr/runtime';
import type { BufferedRecord } from './partition-buffer.js';
import { outOfBounds } from './warehouse/bounds.js';
import { featuresJson } from './warehouse/features-json.js';
import { alertRow, deadLetterRow, scoreRow, scoreRowWith, sinkDeadLetterRow, type Position } from './warehouse/rows.js';
import { ALERT_COLUMNS, DEAD_LETTER_COLUMNS, SCORE_COLUMNS } from './warehouse/schema.js';
import type { AlertRow, DeadLetterRow, ScoreRow } from './warehouse/types.js';

/** One record of a cut, ready for the warehouse: a score row, an alert row, a dead-letter row, or nothing to write (its offset still moves). */
export interface Item {
  record: BufferedRecord;
  score?: ScoreRow;
  alert?: AlertRow;
  /** A challenger's score (ehr.shadow-scores.v1): lands in shadow_scores. */
  shadowScore?: ScoreRow;
  deadLetter?: DeadLetterRow;
}

export interface Converted {
  items: Item[];
  /** Scores that did not decode: dead letters for the dead-letter topic (they land in dead_letters from there). */
  toTopic: DeadLetter[];
  /** Rows quarantined before the warehouse saw them (outside its bounds). */
  outOfBounds: number;
  /** Records whose conversion threw on every attempt. */
  processingErrors: number;
  /** Conversion attempts that threw (retried or not). */
  throws: number;
}

export interface ConvertContext {
  cluster: string;
  /** The topic as the sink consumes it (plain name: which decoder). */
  topic: string;
  /** The topic as named on the wire (lineage). */
  wireTopic: string;
  partition: number;
  /** How many times a record whose conversion throws is tried before it is dead-lettered as processing_error. */
  maxAttempts: number;
  /** Which topic carries dead letters. */
  deadLetterTopic: string;
  /** Which topic carries alert events (everything else carries scores). */
  alertTopic?: string;
  /** Which topic carries a challenger's shadow scores (a score row, landed in shadow_scores). */
  shadowScoreTopic?: string;
  /** The score decoder (the contract's, unless a test injects a faulty one). */
  decodeScore?: (bytes: Uint8Array) => Validation<SeverityScoreEvent>;
}

const positionOf = (ctx: ConvertContext, r: BufferedRecord): Position => ({ topic: ctx.wireTopic, partition: ctx.partition, offset: String(r.offset), timestamp: r.timestamp });

/** Converts one record; throws only if the conversion itself fails (a bug, not bad input). */
function convertOne(ctx: ConvertContext, r: BufferedRecord, toTopic: DeadLetter[]): { item: Item; quarantined: boolean } {
  const at = positionOf(ctx, r);
  // Dead letters name the topic as every service does (the plain name); rows keep the wire name as lineage.
  const asRejected = { topic: ctx.topic, partition: ctx.partition, offset: at.offset, key: r.key, value: r.value };
  if (ctx.topic === ctx.deadLetterTopic) {
    const decoded = decodeDeadLetter(r.value);
    // A malformed dead letter cannot be dead-lettered again (a loop): keep it whole, as the sink's own.
    const letter = decoded.ok ? decoded.value : buildDeadLetter(asRejected, { service: 'sink', reason: decoded.reason, error: decoded.error, issues: decoded.issues });
    const row = deadLetterRow(ctx.cluster, at, letter);
    const problem = outOfBounds(DEAD_LETTER_COLUMNS, row);
    if (!problem) return { item: { record: r, deadLetter: row }, quarantined: false };
    return { item: { record: r, deadLetter: sinkDeadLetterRow(ctx.cluster, at, r, 'warehouse_rejected', `dead letter outside the warehouse's bounds: ${problem}`, ctx.topic) }, quarantined: true };
  }
  if (ctx.topic === ctx.alertTopic) return convertAlert(ctx, r, at, asRejected, toTopic);
  const row = decodedRow(ctx, at, asRejected, toTopic);
  if (!row) return { item: { record: r }, quarantined: false };
  const problem = outOfBounds(SCORE_COLUMNS, row);
  if (!problem) return { item: ctx.topic === ctx.shadowScoreTopic ? { record: r, shadowScore: row } : { record: r, score: row }, quarantined: false };
  return { item: { record: r, deadLetter: sinkDeadLetterRow(ctx.cluster, at, r, 'warehouse_rejected', `score outside the warehouse's bounds: ${problem}`, ctx.topic) }, quarantined: true };
}

/**
 * The score's row, or null when it did not decode (its dead letter is added to `toTopic`).
 * A frame's values go straight to the `features` text: the 211-key record decodeSeverityScore
 * would build was only ever stringified here (bench/rows.ts: README, "Cost per row"). An
 * injected decoder (tests) gives the whole score, record included.
 */
function decodedRow(ctx: ConvertContext, at: Position, asRejected: Parameters<typeof triage>[0][number], toTopic: DeadLetter[]): ScoreRow | null {
  if (ctx.decodeScore) {
    const { accepted, rejected } = triage([asRejected], ctx.decodeScore, 'sink');
    toTopic.push(...rejected);
    const event = accepted[0]?.value;
    return event ? scoreRow(ctx.cluster, at, event) : null;
  }
  const { accepted, rejected } = triage([asRejected], decodeSeverityScoreValues, 'sink');
  toTopic.push(...rejected);
  const decoded = accepted[0]?.value;
  if (!decoded) return null;
  return decoded.values === null ? scoreRow(ctx.cluster, at, decoded.event) : scoreRowWith(ctx.cluster, at, decoded.event, featuresJson(decoded.values));
}

/** An alert event: invalid → the dead-letter topic (like a score), out of bounds → the sink's own dead letter. */
function convertAlert(ctx: ConvertContext, r: BufferedRecord, at: Position, asRejected: Parameters<typeof triage>[0][number], toTopic: DeadLetter[]): { item: Item; quarantined: boolean } {
  const { accepted, rejected } = triage([asRejected], decodeAlertEvent, 'sink');
  const event = accepted[0]?.value;
  if (!event) {
    toTopic.push(...rejected);
    return { item: { record: r }, quarantined: false };
  }
  const row = alertRow(ctx.cluster, at, event);
  const problem = outOfBounds(ALERT_COLUMNS, row);
  if (!problem) return { item: { record: r, alert: row }, quarantined: false };
  return { item: { record: r, deadLetter: sinkDeadLetterRow(ctx.cluster, at, r, 'warehouse_rejected', `alert event outside the warehouse's bounds: ${problem}`, ctx.topic) }, quarantined: true };
}

export function convert(ctx: ConvertContext, records: readonly BufferedRecord[]): Converted {
  const out: Converted = { items: [], toTopic: [], outOfBounds: 0, processingErrors: 0, throws: 0 };
  for (const r of records) {
    let done: { item: Item; quarantined: boolean } | null = null;
    let lastError: unknown;
    for (let attempt = 1; attempt <= ctx.maxAttempts && done === null; attempt++) {
      const before = out.toTopic.length;
      try {
        done = convertOne(ctx, r, out.toTopic);
      } catch (err) {
        out.toTopic.length = before;
        out.throws++;
        lastError = err;
      }
    }
    if (done === null) {
      out.processingErrors++;
      const error = `conversion failed ${ctx.maxAttempts} time(s): ${errorMessage(lastError)}`;
      out.items.push({ record: r, deadLetter: sinkDeadLetterRow(ctx.cluster, positionOf(ctx, r), r, 'processing_error', error, ctx.topic) });
      continue;
    }
    if (done.quarantined) out.outOfBounds++;
    out.items.push(done.item);
  }
  return out;
}

/** One row per id in a write (an upstream re-emission can sit in one batch twice). */
export function dedupeBy<T>(rows: readonly T[], id: (row: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const row of rows) {
    const k = id(row);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(row);
  }
  return out;
}
