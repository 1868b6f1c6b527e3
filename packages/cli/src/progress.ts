// Progress for anything that takes more than a moment: a bar with rate and ETA on a
// terminal, one JSON line now and then in a log (so CI output stays quiet and parseable).
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** Sets how far the work is (absolute). */
  update(done: number): void;
  /** Adds to how far the work is. */
  increment(by?: number): void;
  /** Ends the display (the bar stays on screen; the log gets a last line). */
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  /** What is counted, e.g. `events`, `trees`. */
  unit: string;
  stream?: NodeJS.WriteStream;
  /** In a log: at most one line this often (default 10 s). */
  logEveryMs?: number;
  now?: () => number;
}

export function createProgress({ label, total, unit, stream = process.stderr, logEveryMs = 10_000, now = Date.now }: ProgressOptions): Progress {
  if (stream.isTTY) {
    const bar = new SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
        stream,
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      undefined,
    );
    const started = now();
    let done = 0;
    const rate = () => Math.round(done / Math.max(0.001, (now() - started) / 1000));
    bar.start(total, 0, { rate: 0 });
    return {
      update(value) {
        done = value;
        bar.update(value, { rate: rate() });
      },
      increment(by = 1) {
        done += by;
        bar.update(done, { rate: rate() });
      },
      stop() {
        bar.stop();
      },
    };
  }
  const started = now();
  let done = 0;
  let lastLog = started;
  const line = (final: boolean) => {
    const seconds = (now() - started) / 1000;
    stream.write(
      `${JSON.stringify({ level: 'info', time: new Date(now()).toISOString(), msg: `${label}${final ? ': done' : ''}`, done, total, unit, ratePerSecond: Math.round(done / Math.max(0.001, seconds)), seconds: Math.round(seconds * 10) / 10 })}\n`,
    );
  };
  const maybeLog = () => {
    if (now() - lastLog >= logEveryMs) {
      lastLog = now();
      line(false);
    }
  };
  return {
    update(value) {
      done = value;
      maybeLog();
    },
    increment(by = 1) {
      done += by;
      maybeLog();
    },
    stop() {
      line(true);
    },
  };
}
