// The sink's Prometheus metrics, registered once per service (the gauges computed on scrape are in progress.ts).
import { Counter, Gauge, Histogram, type Registry } from '@ehr/runtime';

export function sinkMetrics(registry: Registry) {
  const registers = [registry];
  return {
    events: new Counter({ name: 'ehr_sink_events_total', help: 'severity scores consumed', registers }),
    deadLetters: new Counter({ name: 'ehr_sink_dead_letters_total', help: 'records the sink itself rejected, by reason', labelNames: ['reason'], registers }),
    rows: new Counter({ name: 'ehr_sink_rows_landed_total', help: 'rows committed to the warehouse, by table', labelNames: ['table'], registers }),
    skipped: new Counter({ name: 'ehr_sink_redelivered_skipped_total', help: 'redelivered records skipped (already buffered or landed)', registers }),
    flushes: new Counter({ name: 'ehr_sink_flushes_total', help: 'warehouse batches committed, by trigger', labelNames: ['trigger'], registers }),
    failures: new Counter({
      name: 'ehr_sink_warehouse_failures_total',
      help: 'failed warehouse writes, by kind: offset_conflict (another writer moved the offset), data (the warehouse refused a row), error (an outage)',
      labelNames: ['kind'],
      registers,
    }),
    revoked: new Counter({ name: 'ehr_sink_revoked_dropped_total', help: 'buffered records dropped because their partition was assigned to another member', registers }),
    retries: new Counter({ name: 'ehr_sink_record_retries_total', help: 'record conversions that threw (retried up to SINK_RECORD_MAX_ATTEMPTS, then dead-lettered)', registers }),
    flushSeconds: new Histogram({
      name: 'ehr_sink_flush_seconds',
      help: 'duration of one warehouse batch transaction',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    delay: new Histogram({
      name: 'ehr_sink_end_to_end_seconds',
      help: 'from a record reaching the bus to its row being committed in the warehouse',
      buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 5, 10, 30, 60],
      registers,
    }),
    offset: new Gauge({
      name: 'ehr_sink_warehouse_offset',
      help: 'last offset the warehouse holds, per topic (on the wire) and partition',
      labelNames: ['topic', 'partition'],
      registers,
    }),
  };
}

export type SinkMetrics = ReturnType<typeof sinkMetrics>;
