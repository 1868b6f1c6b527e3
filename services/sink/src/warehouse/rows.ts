import type { BusRecord } from '@ehr/bus';
import type { DeadLetter, SeverityScoreEvent } from '@ehr/features';
import type { DeadLetterRow, ScoreRow } from './types.js';

const iso = (epochMs: number) => new Date(Number.isFinite(epochMs) ? epochMs : 0).toISOString();

export function scoreRow(cluster: string, record: BusRecord, event: SeverityScoreEvent): ScoreRow {
  const p = event.payload;
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
    news2: p.news2,
    news2Band: p.news2Band,
    modelName: p.model?.name ?? null,
    modelVersion: p.model?.version ?? null,
    features: JSON.stringify(p.features),
    topFeatures: JSON.stringify(p.topFeatures),
    latencyMs: p.latencyMs,
    unit: p.context?.unit ?? null,
    department: p.context?.department ?? null,
    srcCluster: cluster,
    srcTopic: record.topic,
    srcPartition: record.partition,
    srcOffset: record.offset,
    srcTimestamp: iso(record.timestamp),
  };
}

export function deadLetterRow(cluster: string, record: BusRecord, d: DeadLetter): DeadLetterRow {
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
    srcCluster: cluster,
    srcTopic: record.topic,
    srcPartition: record.partition,
    srcOffset: record.offset,
  };
}
