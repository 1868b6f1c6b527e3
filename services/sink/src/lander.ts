// Lands a cut's rows: one warehouse transaction for the lot, or, when the warehouse refuses
// the data itself (a cast, a constraint, a size), halves landed on their own until the row
// it refuses is alone, which then lands as a `warehouse_rejected` dead letter instead. Good
// rows are never held back by a bad one, and the partition never stalls on it.
import type { Logger } from '@ehr/runtime';
import { dedupeBy, type Item } from './convert.js';
import { sinkDeadLetterRow } from './warehouse/rows.js';
import { WarehouseDataError, type LandBatch, type LandResult, type Warehouse } from './warehouse/types.js';

export interface LandTarget {
  cluster: string;
  /** The topic as services name it (dead letters' source_topic). */
  topic: string;
  /** The topic as named on the wire (offsets and lineage). */
  wireTopic: string;
  partition: number;
}

/** One transaction that committed. */
export interface Landed {
  items: readonly Item[];
  batch: LandBatch;
  result: LandResult;
  committedAt: number;
  /** Rows the warehouse refused in this write, landed as dead letters instead. */
  refused: number;
  /** Records whose offset moved without any row (even their dead letter was refused). */
  unlandable: number;
}

function batchOf(target: LandTarget, items: readonly Item[], expected: bigint): LandBatch {
  const scores = dedupeBy(
    items.flatMap((i) => (i.score ? [i.score] : [])),
    (r) => r.scoreId,
  );
  const shadowScores = dedupeBy(
    items.flatMap((i) => (i.shadowScore ? [i.shadowScore] : [])),
    (r) => r.scoreId,
  );
  const deadLetters = dedupeBy(
    items.flatMap((i) => (i.deadLetter ? [i.deadLetter] : [])),
    (r) => r.deadLetterId,
  );
  const alerts = dedupeBy(
    items.flatMap((i) => (i.alert ? [i.alert] : [])),
    (r) => r.eventId,
  );
  return {
    cluster: target.cluster,
    topic: target.wireTopic,
    partition: target.partition,
    expectedLastOffset: expected,
    firstOffset: items[0]!.record.offset,
    lastOffset: items[items.length - 1]!.record.offset,
    records: items.length,
    scores,
    ...(shadowScores.length > 0 ? { shadowScores } : {}),
    deadLetters,
    ...(alerts.length > 0 ? { alerts } : {}),
  };
}

export class Lander {
  constructor(
    private readonly warehouse: Warehouse,
    private readonly logger: Logger,
  ) {}

  /**
   * Lands `items` (one partition, offset order) from the offset `expected()` returns, which
   * `onLanded` moves forward after each committed transaction. A conflict or an outage is
   * thrown; what landed before it stays landed (and `onLanded` was told).
   */
  async land(target: LandTarget, items: readonly Item[], expected: () => bigint, onLanded: (landed: Landed) => Promise<void>): Promise<void> {
    if (items.length === 0) return;
    try {
      await this.write(target, items, expected(), onLanded, 0, 0);
    } catch (err) {
      if (!(err instanceof WarehouseDataError)) throw err;
      if (items.length > 1) {
        const mid = Math.ceil(items.length / 2);
        this.logger.warn({ topic: target.wireTopic, partition: target.partition, records: items.length, err }, 'the warehouse refused a row of this batch: landing it in halves');
        await this.land(target, items.slice(0, mid), expected, onLanded);
        await this.land(target, items.slice(mid), expected, onLanded);
        return;
      }
      await this.refuse(target, items[0]!, err, expected, onLanded);
    }
  }

  private async write(target: LandTarget, items: readonly Item[], expected: bigint, onLanded: (landed: Landed) => Promise<void>, refused: number, unlandable: number) {
    const batch = batchOf(target, items, expected);
    const result = await this.warehouse.land(batch);
    await onLanded({ items, batch, result, committedAt: Date.now(), refused, unlandable });
  }

  /** The one record the warehouse refuses: its dead letter lands in its place; if even that is refused, its offset moves alone. */
  private async refuse(target: LandTarget, item: Item, err: WarehouseDataError, expected: () => bigint, onLanded: (landed: Landed) => Promise<void>) {
    const at = { topic: target.wireTopic, partition: target.partition, offset: String(item.record.offset), timestamp: item.record.timestamp };
    if (!item.score && !item.shadowScore && !item.alert && !item.deadLetter) throw err; // nothing of the record's own was written: not its data
    this.logger.warn({ topic: target.wireTopic, partition: target.partition, offset: at.offset, err }, 'the warehouse refused a row: it lands as a warehouse_rejected dead letter');
    const letter = sinkDeadLetterRow(target.cluster, at, item.record, 'warehouse_rejected', `the warehouse refused the row: ${err.message}`, target.topic);
    try {
      await this.write(target, [{ record: item.record, deadLetter: letter }], expected(), onLanded, 1, 0);
    } catch (again) {
      if (!(again instanceof WarehouseDataError)) throw again;
      // Never stall the partition on it: the offset moves, the error is logged and counted.
      this.logger.error({ topic: target.wireTopic, partition: target.partition, offset: at.offset, err: again }, 'the warehouse refused even the dead letter of a row: moving past it');
      await this.write(target, [{ record: item.record }], expected(), onLanded, 1, 1);
    }
  }
}
