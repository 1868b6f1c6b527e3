// Settings of native allocators that a process must have before the library using them loads.
//
// lz4-napi (Kafka's LZ4 codec in @ehr/bus) is built with mimalloc. Its async functions run on
// libuv's worker threads and allocate there; the Buffers are freed later, on the main thread,
// by the GC, and mimalloc kept the freed pages resident for its default purge delay (10 ms),
// by which time the next fetch had taken them again: the pages never went back. Measured
// (2,000 LZ4 round trips of an 857 KiB frame on the async functions, one process each): 276
// MiB resident by default, 131 MiB with a purge delay of 0; in the pipeline bench the arena
// held 40-60 MiB of the scoring service's 200 and 27 instead of 62 MiB of the sink's. (The
// synchronous functions hold nothing there but grew to 3 GB resident on the same frames.)
//
// DuckDB (the sink's embedded warehouse, and npm start's) carries its own jemalloc, which it
// configures with two arenas and a purge delay of 1 s for dirty pages and 1 s more for
// "muzzy" ones; a sink landing a transaction every few hundred ms never gave pages back.
// Its environment variable DUCKDB_JE_MALLOC_CONF overrides that (jemalloc reads it when
// DuckDB first allocates). One arena, dirty pages purged after 200 ms and muzzy ones at once:
// `npm run bench:rows -w @ehr/sink` (40,000 real score rows, load 1.1-1.5) peaked at 290-316
// against 312-386 MiB with DuckDB's own, ended at 221-257 against 294-327 MiB, at 138-144
// against 152-163 ms of CPU per 1,000 rows. A delay of 0 took the peak to 282-285 MiB but
// cost 30 % more CPU (madvise and the page faults after it). In the pipeline bench (two runs
// each, in turns, load 1.5-6.4) the sink peaked at 305-323 against 310-366 MiB, at the same
// rate and CPU.

/** Allocator options every service process starts with (names as their libraries read them). */
export const ALLOCATOR_DEFAULTS: Readonly<Record<string, string>> = {
  MIMALLOC_PURGE_DELAY: '0',
  DUCKDB_JE_MALLOC_CONF: 'narenas:1,dirty_decay_ms:200,muzzy_decay_ms:0',
};

/**
 * The defaults `env` does not set itself (an operator's own value wins). A process's
 * main.ts assigns them to process.env before it imports @ehr/bus: mimalloc reads its
 * options once, when lz4-napi loads, and jemalloc when DuckDB first allocates.
 */
export function allocatorEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(ALLOCATOR_DEFAULTS).filter(([name]) => env[name] === undefined || env[name] === ''));
}
