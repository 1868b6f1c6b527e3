import { buildDeadLetter, catalogueOf, type AlertEvent, type DeadLetter, type DeadLetterReason, type SeverityScoreEvent } from '@ehr/features';
import { clip } from './bounds.js';
import { DEAD_LETTER_COLUMNS } from './schema.js';
import type { AlertRow, DeadLetterRow, ScoreRow } from './types.js';

/** Where a record sat on the bus: the topic as named on the wire, its partition and offset, its broker time. */
export interface Position {
  topic: string;
  partition: number;
  offset: string;
  /** Broker append time, epoch ms. */
  timestamp: number;
}

/** Where every landed row came from (its lineage columns), so a row can be traced back to its record. */
const lineage = (cluster: string, at: Position) => ({ srcCluster: cluster, srcTopic: at.topic, srcPartition: at.partition, srcOffset: at.offset });

const iso = (epochMs: number) => new Date(Number.isFinite(epochMs) ? epochMs : 0).toISOString();

export function scoreRow(cluster: string, at: Position, event: SeverityScoreEvent): ScoreRow {
  const p = event.payload;
  // A score off the bus (a frame): its values straight to the text, its 211-key record never
  // built (building and stringifying it were 16 % of the sink's main thread and most of its
  // garbage, issue 18). The JSON of before carries its record.
  const values = catalogueOf(p)?.values;
  return {
    scoreId: p.scoreId,
    // The raw event the score traces back to (the architecture's `event_id`); scores from
    // before triggerEventId existed name their own envelope id, as they always did.
    eventId: p.triggerEventId ?? event.eventId,
    featureEventId: p.featureEventId,
    patientId: event.patientId,
    encounterId: event.encounterId,
    eventTime: p.eventTime,
    scoredAt: p.scoredAt,
    mode: p.mode,
    probability: p.probability,
    band: p.band,
    bandSource: p.bandSource ?? null,
    bandReason: p.bandReason ?? null,
    news2: p.news2,
    news2Band: p.news2Band,
    modelName: p.model?.name ?? null,
    modelVersion: p.model?.version ?? null,
    // The values, written as text when the row lands (schema.ts), not when it is buffered: a
    // 7 KB text held for the flush interval lived through two scavenges into the old space,
    // and the sink's main thread spent 31 % of its time in the garbage collector (pipeline
    // bench profile).
    features: values ?? JSON.stringify(p.features),
    topFeatures: JSON.stringify(p.topFeatures),
    latencyMs: p.latencyMs,
    unit: p.context?.unit ?? null,
    department: p.context?.department ?? null,
    ...lineage(cluster, at),
    srcTimestamp: iso(at.timestamp),
  };
}

export function alertRow(cluster: string, at: Position, event: AlertEvent): AlertRow {
  const p = event.payload;
  return {
    eventId: event.eventId,
    alertId: p.alertId,
    patientId: event.patientId,
    encounterId: event.encounterId,
    occurredAt: event.occurredAt,
    producedAt: event.producedAt,
    type: p.type,
    kind: p.kind,
    severity: p.severity,
    status: p.status,
    unit: p.unit,
    raisedAt: p.raisedAt,
    escalateAt: p.escalateAt,
    scoreId: p.scoreId,
    probability: p.probability,
    news2: p.news2,
    reason: p.reason,
    supersedes: p.supersedes,
    dismissReason: p.dismissReason,
    resolveReason: p.resolveReason,
    actor: p.actor,
    secondsToAcknowledge: p.secondsToAcknowledge,
    policyName: p.policy.name,
    policyVersion: p.policy.version,
    overdueLastObservationAt: p.overdue?.lastObservationAt ?? null,
    overdueDueAt: p.overdue?.dueAt ?? null,
    overdueIntervalHours: p.overdue?.intervalHours ?? null,
    ...lineage(cluster, at),
    srcTimestamp: iso(at.timestamp),
  };
}

export function deadLetterRow(cluster: string, at: Position, d: DeadLetter): DeadLetterRow {
  return {
    deadLetterId: d.eventId,
    service: d.service,
    reason: d.reason,
    error: d.error,
    details: JSON.stringify(d.details),
    sourceTopic: d.sourceTopic,
    sourcePartition: d.sourcePartition,
    sourceOffset: d.sourceOffset,
    originalEventId: d.originalEventId,
    patientId: d.patientId,
    originalKey: d.originalKey,
    originalBytes: d.originalBytes,
    producedAt: d.producedAt,
    ...lineage(cluster, at),
  };
}

const limit = (name: string) => DEAD_LETTER_COLUMNS.find((c) => c.name === name)!.maxLength!;

/**
 * The sink's own dead letter for a record it cannot land (`warehouse_rejected`: outside the
 * warehouse's bounds or refused by it; `processing_error`: converting it kept failing). Its
 * id comes from the record's position and the reason, so it lands once however often the
 * record is delivered; it carries the record's bytes (the first 256 KiB) and where it sat.
 * Every text is cut to its column's bound: this row must always fit.
 */
export function sinkDeadLetterRow(
  cluster: string,
  at: Position,
  record: { key: string | null; value: Uint8Array },
  reason: Extract<DeadLetterReason, 'warehouse_rejected' | 'processing_error'>,
  error: string,
  /** The topic as services name it (every dead letter's `source_topic`); lineage keeps the name on the wire. */
  sourceTopic = at.topic,
  now = new Date(),
): DeadLetterRow {
  const letter = buildDeadLetter({ topic: sourceTopic, partition: at.partition, offset: at.offset, key: record.key, value: record.value }, { service: 'sink', reason, error }, now);
  const row = deadLetterRow(cluster, at, letter);
  return {
    ...row,
    error: clip(row.error, limit('error'))!,
    patientId: clip(row.patientId, limit('patient_id')),
    originalKey: clip(row.originalKey, limit('original_key')),
    sourceTopic: clip(row.sourceTopic, limit('source_topic'))!,
  };
}
