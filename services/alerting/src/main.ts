// The alerting service as a process: env → config → real bus → listen → graceful shutdown.
import { runService } from '@ehr/bus';
import { manifest } from './manifest.js';

await runService(manifest, process.env, process.cwd(), { argv: process.argv.slice(2) });
