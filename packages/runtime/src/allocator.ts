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

/** Allocator options every service process starts with (names as their libraries read them). */
export const ALLOCATOR_DEFAULTS: Readonly<Record<string, string>> = {
  MIMALLOC_PURGE_DELAY: '0',
};

/**
 * The defaults `env` does not set itself (an operator's own value wins). A process's
 * main.ts assigns them to process.env before it imports @ehr/bus: mimalloc reads its
 * options once, when lz4-napi loads.
 */
export function allocatorEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(ALLOCATOR_DEFAULTS).filter(([name]) => env[name] === undefined || env[name] === ''));
}
