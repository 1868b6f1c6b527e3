// The feature service as a process: env → config → real bus → listen → graceful shutdown.
import { allocatorEnv } from '@ehr/runtime';

// Before @ehr/bus loads lz4-napi, whose allocator reads its options once (@ehr/runtime allocator.ts).
Object.assign(process.env, allocatorEnv(process.env));
const { runService } = await import('@ehr/bus');
const { manifest } = await import('./manifest.js');

await runService(manifest, process.env, process.cwd(), { argv: process.argv.slice(2) });
