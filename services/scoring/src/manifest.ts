// The scoring service as the launcher, the stack and the tools know it.
import { defineService } from '@ehr/bus';
import { loadConfig, ScoringEnv } from './config.js';
import { createScoringService } from './service.js';

export const manifest = defineService({
  name: 'scoring',
  summary: 'Random Forest and NEWS2 severity scores: ehr.features.v1 → ehr.scores.v1',
  defaultPort: 3003,
  groupIdVariable: 'SCORING_GROUP_ID',
  clientId: 'scoring-service',
  stage: true,
  // Measured in the pipeline bench (tools/e2e, 20,000 events then 10-20 s at a rate; 2 cores,
  // load 9-28): unbounded, V8 let the heap grow to 200 MiB of mostly garbage (the live heap
  // is about 47 MiB: a heap snapshot mid-run) and the process peaked at 320-367 MiB. With
  // these two it peaks at 195-205 MiB (heap 75 MiB), and at 157-174 MiB with the allocator
  // defaults main.ts sets (@ehr/runtime allocator.ts). An old space of 64 MiB made V8 collect
  // all the time (scoring CPU ×2, throughput a sixth). The semi-space of 4 MiB (16 by
  // default) is a smaller young generation, collected more often; time in GC per run did not
  // rise (1.6 s bounded, 1.9 s unbounded, 20,000 events). The rest is not JavaScript: the
  // node binary (39 MiB), malloc (20 MiB), lz4-napi's allocator arena (20-30 MiB).
  // 96 MiB was too little: the served PhysioNet model (a 31.5 MB artifact, 500 trees) runs
  // out of heap while it loads (loading it takes a heap of about 170 MiB; twice, with a
  // challenger, 190). 256 MiB holds both, and a heap cap still stops the lazy growth.
  // A semi-space of 16 MiB cut bench:handle's CPU per vector from 83-84 to 65-67 µs (8 MiB:
  // 73-75), but in the pipeline bench (2026-12-07, load 2-6, one run each) scoring used 0.32
  // cores at 2,000 events/s against 0.34 at 4 MiB (8: 0.33), within the runs' noise, and
  // peaked at 196 MiB against 163 (8: 177), at the edge of issue 18's 200: not taken.
  nodeFlags: ['--max-old-space-size=256', '--max-semi-space-size=4'],
  env: ScoringEnv,
  loadConfig,
  create: createScoringService,
});
