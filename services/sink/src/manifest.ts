// The sink as the launcher, the stack and the tools know it.
import { defineService } from '@ehr/bus';
import { loadConfig, SinkEnv } from './config.js';
import { createSinkService } from './service.js';

export const manifest = defineService({
  name: 'sink',
  summary: 'lands scores and dead letters exactly once in DuckDB or Snowflake',
  defaultPort: 3004,
  groupIdVariable: 'SINK_GROUP_ID',
  clientId: 'sink',
  stage: true,
  // Measured in the pipeline bench (tools/e2e, 20,000 events then 10-20 s at a rate; 2 cores,
  // load 9-28): unbounded, V8 let the heap grow to 186 MiB (the live heap is about 42 MiB: a
  // heap snapshot mid-run; the buffered records are bounded by SINK_MAX_BUFFERED_BYTES) and
  // the process peaked at 530-597 MiB. With these two it peaks at 340-410 MiB, heap 67-80 MiB;
  // the sink's own bench (bench/stream.ts, 50,000 scores at 5,000/s) lands as many rows per
  // second with them (4,717-4,743 vs 4,498-4,716; README, "DuckDB memory settings"); time in
  // GC rose from 1.1 to 1.7 s per 24,000 events. Most of the rest is native: DuckDB (its
  // library 33 MiB, its jemalloc about 45 MiB, glibc arenas of the threads its queries run on
  // 50-70 MiB), lz4-napi's allocator arena and the node binary; DuckDB's buffer pool held 35.
  // 96 MiB was too little: the Snowflake path ran out of heap in the warehouse-outage fault
  // test (the snowflake-sdk serialising a backlog's batch after the outage: CI, 2026-12-07).
  // 256 MiB with the small semi-space; the DuckDB figures above were taken at 96.
  // The semi-space stays 4 MiB (bench/rows.ts, real 211-feature frames, README "Heap flags",
  // load 5.5-6.3): 8 and 16 MiB cut the scavenges from 555 to 316 and 199 per 40,000 rows
  // but not the CPU (171-194 vs 173-184 ms per 1,000 rows, within the noise), and added
  // 15-40 MiB of RSS.
  nodeFlags: ['--max-old-space-size=256', '--max-semi-space-size=4'],
  // DuckDB's queries run on libuv's worker threads, and every thread that allocates gets a
  // glibc arena of its own that keeps what it freed. Two arenas and two workers (four by
  // default; the sink writes one transaction at a time): peak RSS 357-371 against 400-418
  // MiB in the pipeline bench (two runs each, 20,000-30,000 events), at the same rate (967
  // vs 894-907 events/s at loads 9-14).
  processEnv: { MALLOC_ARENA_MAX: '2', UV_THREADPOOL_SIZE: '2' },
  env: SinkEnv,
  loadConfig,
  create: createSinkService,
});
