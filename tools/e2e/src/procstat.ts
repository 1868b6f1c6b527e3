// CPU and memory of processes, sampled from /proc (Linux): /proc/<pid>/stat for user and
// system CPU time (clock ticks), /proc/<pid>/status for VmRSS and VmHWM. Written here
// rather than taken from pidusage because the figures wanted are exactly these counters
// (CPU seconds over a phase, peak resident memory), which pidusage folds into a percentage.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticks: number | null = null;
/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux almost everywhere). */
export function clockTicks(): number {
  if (ticks === null) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export interface ProcSample {
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
  rssBytes: number;
  /** Peak resident set size so far. */
  hwmBytes: number;
}

/** One reading, or null when the process is gone. */
export function readProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) in parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { cpuSeconds: (utime + stime) / clockTicks(), rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
  } catch {
    return null;
  }
}

export interface ProcSummary {
  name: string;
  /** CPU seconds used during the sampled window (summed over the pids the name had). */
  cpuSeconds: number;
  /** Average cores busy over the window (cpuSeconds / wall seconds). */
  cpuCores: number;
  rssMeanBytes: number;
  rssMaxBytes: number;
  samples: number;
}

/**
 * Samples named processes every `intervalMs`. A name's pid may change (a restarted
 * service): `pids()` is asked on every tick.
 */
export function startSampler(pids: () => Record<string, number | undefined>, intervalMs = 250) {
  const started = Date.now();
  const state = new Map<string, { first: Map<number, number>; last: Map<number, number>; rss: number[] }>();
  const tick = () => {
    for (const [name, pid] of Object.entries(pids())) {
      if (pid === undefined) continue;
      const s = readProc(pid);
      if (!s) continue;
      let entry = state.get(name);
      if (!entry) state.set(name, (entry = { first: new Map(), last: new Map(), rss: [] }));
      if (!entry.first.has(pid)) entry.first.set(pid, s.cpuSeconds);
      entry.last.set(pid, s.cpuSeconds);
      entry.rss.push(s.rssBytes);
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    /** Current peak RSS of a name over the samples so far (bytes), or 0. */
    maxRss(name: string): number {
      return Math.max(0, ...(state.get(name)?.rss ?? []));
    },
    stop(): ProcSummary[] {
      tick();
      clearInterval(timer);
      const wall = Math.max(0.001, (Date.now() - started) / 1000);
      return [...state].map(([name, s]) => {
        let cpu = 0;
        for (const [pid, first] of s.first) cpu += (s.last.get(pid) ?? first) - first;
        return {
          name,
          cpuSeconds: cpu,
          cpuCores: cpu / wall,
          rssMeanBytes: s.rss.reduce((a, b) => a + b, 0) / Math.max(1, s.rss.length),
          rssMaxBytes: Math.max(0, ...s.rss),
          samples: s.rss.length,
        };
      });
    },
  };
}
