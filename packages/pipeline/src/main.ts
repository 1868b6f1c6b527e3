// `npm start`: the whole pipeline in one process. Ctrl-C stops it cleanly.
import { startPipeline } from './pipeline.js';

const say = (line: string) => void process.stdout.write(`${line}\n`);
// The demo stream is on by default: a synthetic ward of 300 beds at ~50 events/s (see
// @ehr/producer's PRODUCER_* variables; PRODUCER_SOURCE=none turns it off).
const env = { PRODUCER_SOURCE: 'synthetic', ...process.env };
const pipeline = await startPipeline({ env, say, defaultModel: true }).catch((err: unknown) => {
  process.stderr.write(`pipeline failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

let stopping = false;
const stop = (signal: string) => {
  if (stopping) {
    say('second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
  say(`${signal}: stopping (flushing and committing)…`);
  pipeline.stop().then(
    () => {
      say('stopped cleanly');
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`stop failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
