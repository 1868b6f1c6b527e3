// What an append costs on the in-memory broker as a partition fills to its cap
// (maxRetainedPerPartition): a compacted topic that nothing commits, as the alerting service's
// state changelog in `npm start`, keeps every slot (compaction leaves gaps, offsets stay) until
// the cap, and from then on every append trims. Prints µs per append for each 200,000 appends.
//
//   npm run bench:retained -w @ehr/bus     (BENCH_CAP: the cap, default the broker's 500,000)
import { MemoryBroker } from '../src/index.js';

const CAP = Number(process.env.BENCH_CAP ?? 500_000);
const PARTITIONS = 3;
const APPENDS = 4 * CAP + 400_000;
const STEP = 200_000;

const broker = new MemoryBroker({ defaultPartitions: PARTITIONS, maxRetainedPerPartition: CAP });
broker.createTopic({ topic: 'state', compacted: true, partitions: PARTITIONS });
const value = Buffer.alloc(300, 1);
const rows: { appends: number; microsPerAppend: number }[] = [];
let t0 = performance.now();
for (let i = 1; i <= APPENDS; i++) {
  // 5,000 patients' latest states, as the alerting service republishes them.
  broker.append('state', [{ key: `p${i % 5_000}`, value }]);
  if (i % STEP === 0) {
    const t = performance.now();
    rows.push({ appends: i, microsPerAppend: Number((((t - t0) * 1000) / STEP).toFixed(2)) });
    t0 = t;
  }
}
for (const row of rows) process.stdout.write(`${row.appends}\t${row.microsPerAppend} µs per append\n`);
process.stdout.write(`${JSON.stringify({ cap: CAP, partitions: PARTITIONS, rows })}\n`);
