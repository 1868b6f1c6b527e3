// Progress for the CLI and npm start: a redrawn bar on a terminal, a few plain lines
// otherwise (logs and CI keep one line per step instead of a screen of carriage returns).
// Written here rather than taken from a library because it must also report through
// npm start's line-based `say`, which a terminal-only progress bar cannot.
import type { TrainingProgress } from './fit.js';

export interface ProgressSink {
  /** True when the output is a terminal that can redraw a line. */
  tty: boolean;
  write(text: string): void;
}

function bar(fraction: number, width = 28): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** Progress drawn on `sink`, each line prefixed with `prefix`. */
export function createProgress(sink: ProgressSink, prefix = ''): TrainingProgress & { done(): void } {
  let open = false; // a bar line without its newline yet
  let lastLinePct = -1;
  let lastDraw = 0;
  const close = () => {
    if (open) sink.write('\n');
    open = false;
  };
  const line = (text: string) => {
    close();
    sink.write(`${prefix}${text}\n`);
  };
  const redraw = (text: string, final: boolean) => {
    const now = Date.now();
    if (!final && now - lastDraw < 80) return;
    lastDraw = now;
    sink.write(`\r${prefix}${text}\x1b[K`);
    open = true;
    if (final) close();
  };
  return {
    stage(name) {
      lastLinePct = -1;
      line(`${name}…`);
    },
    events(done, total) {
      const text = total ? `${bar(done / total)} ${done}/${total} events` : `${done} events featurized`;
      if (sink.tty) redraw(text, total !== null && done >= total);
    },
    trees(done, total) {
      const text = `${bar(done / total)} ${done}/${total} trees`;
      if (sink.tty) redraw(text, done >= total);
      else {
        const pct = Math.floor((done / total) * 4) * 25;
        if (pct > lastLinePct || done === total) {
          lastLinePct = pct;
          line(`${done}/${total} trees`);
        }
      }
    },
    done: close,
  };
}

/** Progress through a line-printing function (npm start's `say`): a line per stage and per quarter of the trees. */
export function lineProgress(say: (line: string) => void, prefix: string): TrainingProgress {
  return createProgress({ tty: false, write: (text) => text.split('\n').filter((l) => l.length > 0).forEach((l) => say(l)) }, prefix);
}
