// Progress through a line-printing function (npm start's `say`, which prefixes and logs
// every line): a line per stage and per quarter of the trees, nothing redrawn. Command
// lines draw bars instead (cli-progress.ts).
import type { TrainingProgress } from './fit.js';

export function lineProgress(say: (line: string) => void, prefix: string): TrainingProgress {
  let lastQuarter = -1;
  return {
    stage(name) {
      lastQuarter = -1;
      say(`${prefix}${name}…`);
    },
    trees(done, total) {
      const pct = Math.floor((done / total) * 4) * 25;
      if (pct > lastQuarter || done === total) {
        lastQuarter = pct;
        say(`${prefix}${done}/${total} trees`);
      }
    },
  };
}
