// Training progress for a command line, on @ehr/cli's createProgress: on a terminal a bar
// with rate and ETA for each long step (featurizing, growing trees) and a line per stage; in
// a log, JSON lines (a stage, a step now and then, its end) so CI output stays quiet.
import { createProgress, type Progress } from '@ehr/cli';
import type { TrainingProgress } from './fit.js';

export function commandProgress(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): Required<TrainingProgress> & { done(): void } {
  let bar: { step: string; progress: Progress; done: number } | null = null;
  let counter = false; // a count without a known total is drawn on one line
  let lastCount = 0;
  const end = () => {
    bar?.progress.stop();
    bar = null;
    if (counter) stream.write('\n');
    counter = false;
  };
  const track = (step: string, unit: string, done: number, total: number) => {
    if (!bar || bar.step !== step || done < bar.done) {
      end();
      bar = { step, progress: createProgress({ label: step, total, unit, stream, now }), done: 0 };
    }
    bar.done = done;
    bar.progress.update(done);
    if (done >= total) end();
  };
  return {
    stage(name) {
      end();
      stream.write(stream.isTTY ? `${name}…\n` : `${JSON.stringify({ level: 'info', time: new Date(now()).toISOString(), msg: name })}\n`);
    },
    events(done, total) {
      if (total !== null) return track('featurizing', 'events', done, total);
      // A synthetic cohort's events are counted as they come: no total, no bar.
      if (!stream.isTTY || now() - lastCount < 100) return;
      lastCount = now();
      stream.write(`\rfeaturizing: ${done} events\x1b[K`);
      counter = true;
    },
    stays(done, total) {
      track('featurizing', 'stays', done, total);
    },
    trees(done, total) {
      track('growing trees', 'trees', done, total);
    },
    warn(message) {
      end();
      stream.write(stream.isTTY ? `warning: ${message}\n` : `${JSON.stringify({ level: 'warn', time: new Date(now()).toISOString(), msg: message })}\n`);
    },
    done: end,
  };
}
