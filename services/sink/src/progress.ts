// Is every partition moving? The age of its oldest record not yet in the warehouse (a
// metric), and the partitions that made no progress for longer than a threshold (readiness).
import { Gauge, type DependencyStatus, type Registry } from '@ehr/runtime';
import type { PartitionBuffer } from './partition-buffer.js';

export interface ProgressSource {
  buffers(): Iterable<PartitionBuffer>;
  /** The topic as named on the wire. */
  wire(topic: string): string;
}

/** Gauges computed when scraped, never on the hot path. */
export function registerProgressMetrics(registry: Registry, source: ProgressSource): void {
  const registers = [registry];
  new Gauge({
    name: 'ehr_sink_oldest_unprocessed_seconds',
    help: 'age (from its broker time) of the oldest record of a partition not yet in the warehouse; 0 when none waits',
    labelNames: ['topic', 'partition'],
    registers,
    collect() {
      const now = Date.now();
      this.reset();
      for (const b of source.buffers()) {
        const t = b.oldestPendingTimestamp();
        this.set({ topic: source.wire(b.topic), partition: String(b.partition) }, t === null ? 0 : Math.max(0, (now - t) / 1000));
      }
    },
  });
  // Totals over every partition's buffer.
  const total = (name: string, help: string, of: (b: PartitionBuffer) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        let n = 0;
        for (const b of source.buffers()) n += of(b);
        this.set(n);
      },
    });
  total('ehr_sink_buffered_records', 'records buffered or being written, not yet in the warehouse', (b) => b.pending);
  total('ehr_sink_buffered_bytes', 'bytes held by buffered records and the writes in flight', (b) => b.heldBytes);
}

/** Readiness of the partitions: degraded, naming each one that has records waiting and made no progress for `stallMs`. */
export function partitionsStatus(source: ProgressSource, stallMs: number, now = Date.now()): DependencyStatus {
  const stalled: string[] = [];
  for (const b of source.buffers()) {
    if (!b.stalled(stallMs, now)) continue;
    const since = Math.max(b.pendingSince() ?? now, b.lastProgressAt);
    stalled.push(`${source.wire(b.topic)}[${b.partition}] (${b.pending} records, none landed for ${Math.round((now - since) / 1000)} s)`);
  }
  if (stalled.length === 0) return { state: 'up', detail: 'every partition is moving' };
  return { state: 'degraded', detail: `no progress past ${stallMs} ms: ${stalled.join(', ')}` };
}
