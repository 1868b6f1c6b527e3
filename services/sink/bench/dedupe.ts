// What a batch costs to land as the scores table grows: a sink at 2,000 scores/s adds 7
// million rows an hour, and every batch looks up its score ids in the table so that a
// re-emitted score lands once. The table is filled with N rows first (one landed score,
// copied N times by SQL with new ids and earlier times, as a live feed leaves them), then
// batches of later scores land through Warehouse.land, one transaction each, as a flush does.
// Reports, per table size: the median and slowest landing and the process CPU per landing
// (DuckDB's threads included; building the batch left out).
//
//   npm run bench:dedupe -w @ehr/sink
//
// Knobs: BENCH_TABLE_ROWS (sizes, default 0,1000000,3000000), BENCH_BATCHES (per size,
// default 20), BENCH_BATCH (rows per batch, default 500).
import './allocator.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@ehr/runtime';
import { DuckDbWarehouse } from '../src/warehouse/duckdb.js';
import { fillScores, makeScore, scoreBatch } from '../test/helpers.js';

const SIZES = (process.env.BENCH_TABLE_ROWS ?? '0,1000000,3000000').split(',').map(Number);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const HOUR = 3_600_000;

const logger = createLogger({ service: 'sink-bench', level: 'error' });
const dir = mkdtempSync(join(tmpdir(), 'sink-dedupe-'));
const results = [];
try {
  for (const size of SIZES) {
    const warehouse = new DuckDbWarehouse({ path: join(dir, `w-${size}.duckdb`), logger });
    await warehouse.init();
    const start = Date.UTC(2026, 0, 1);
    await fillScores(warehouse, Math.max(1, size), start);
    let expected = 0n;
    const landMs: number[] = [];
    let cpuMicros = 0;
    for (let b = 0; b < BATCHES; b++) {
      const from = b * BATCH;
      // The live feed goes on an hour after the table's newest score, one score a second.
      const batch = scoreBatch(from, from + BATCH - 1, expected, { run: 'live', score: (i, o) => makeScore(i, { ...o, baseTime: start + HOUR }) });
      const first = BigInt(from) + 1n;
      // The landing alone: building the batch (makeScore validates each score) is the bench's own cost.
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await warehouse.land({ ...batch, firstOffset: first, lastOffset: first + BigInt(BATCH) - 1n });
      landMs.push(performance.now() - t0);
      const cpu = process.cpuUsage(cpu0);
      cpuMicros += cpu.user + cpu.system;
      expected = first + BigInt(BATCH) - 1n;
    }
    await warehouse.close();
    landMs.sort((a, b) => a - b);
    const row = {
      tableRows: size,
      batch: BATCH,
      batches: BATCHES,
      landMsMedian: Number(landMs[Math.floor(landMs.length / 2)]!.toFixed(1)),
      landMsSlowest: Number(landMs[landMs.length - 1]!.toFixed(1)),
      cpuMsPerBatch: Number((cpuMicros / 1000 / BATCHES).toFixed(1)),
      load: loadavg().map((l) => Number(l.toFixed(2))),
    };
    results.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(results)}\n`);

