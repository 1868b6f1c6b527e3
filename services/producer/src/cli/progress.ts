// How `npm run produce` shows how far it is. On a terminal: a bar with rate and ETA when the
// source knows how many events it holds (a replay, or --limit), else a counter rewritten in
// place (an endless ward has no end to estimate). In a log: a pino line every 5 s.
import { createProgress, type Progress } from '@ehr/cli';
import type { Logger } from '@ehr/runtime';
import type { StreamProgress } from '../stream.js';

export interface ProgressDisplayOptions {
  /** Events the stream will publish, when known. */
  total: number | undefined;
  /** Where a terminal display goes (stderr: stdout stays for results). */
  stream: NodeJS.WriteStream;
  logger: Pick<Logger, 'info'>;
  now?: () => number;
}

export interface ProgressDisplay {
  show(progress: StreamProgress): void;
  /** After the stream ends or is stopped: the terminal line is finished. */
  end(): void;
}

const rateOf = (p: StreamProgress) => (p.elapsedMs > 0 ? Math.round((p.published * 1000) / p.elapsedMs) : 0);

export function createProgressDisplay({ total, stream, logger, now = Date.now }: ProgressDisplayOptions): ProgressDisplay {
  if (stream.isTTY && total !== undefined) {
    const bar: Progress = createProgress({ label: 'producing', total, unit: 'events', stream, now });
    return { show: (p) => bar.update(p.published), end: () => bar.stop() };
  }
  let lastShown = 0;
  let open = false;
  return {
    show(p) {
      const t = now();
      if (!p.done && t - lastShown < (stream.isTTY ? 250 : 5000)) return;
      lastShown = t;
      if (!stream.isTTY) {
        logger.info({ published: p.published, eventsPerSecond: rateOf(p), eventTime: p.eventTime, done: p.done }, 'progress');
        return;
      }
      stream.write(`\r\x1b[Kpublished ${p.published.toLocaleString('en')} events · ${rateOf(p).toLocaleString('en')}/s · event time ${p.eventTime ?? '-'}${p.done ? '\n' : ''}`);
      open = !p.done;
    },
    end() {
      if (open) stream.write('\n');
      open = false;
    },
  };
}
