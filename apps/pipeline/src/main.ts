// `npm start`: the whole pipeline in one process. Ctrl-C stops it cleanly.
import { startPipeline } from './pipeline.js';

const say = (line: string) => void process.stdout.write(`${line}\n`);
const tty = process.stdout.isTTY;
// On a terminal the summary rewrites one line in place; in a log it is a line every 30 s.
const summary = tty
  ? { intervalMs: 2_000, show: (line: string) => void process.stdout.write(`\r\u001b[2K${line}`), onFirstScore: say }
  : { intervalMs: 30_000, show: say, onFirstScore: say };
// The demo stream is on by default: a synthetic ward of 300 beds at ~50 events/s (see
// @ehr/producer's PRODUCER_* variables; PRODUCER_SOURCE=none turns it off).
const env = { PRODUCER_SOURCE: 'synthetic', ...process.env };
const pipeline = await startPipeline({ env, say, defaultModel: true, summary }).catch((err: unknown) => {
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
  say(`${tty ? '\n' : ''}${signal}: stopping (flushing and committing)…`);
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
