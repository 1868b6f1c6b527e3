// The allocator options main.ts gives a sink process (@ehr/runtime allocator.ts), for benches
// that build the sink in their own process: imported first, so that they are set before
// DuckDB's jemalloc and lz4-napi's mimalloc read them. An operator's own values still win.
import { allocatorEnv } from '@ehr/runtime';

Object.assign(process.env, allocatorEnv(process.env));
