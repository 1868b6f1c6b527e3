import type { Logger } from './logger.js';

type Step = { name: string; run: () => Promise<void> | void };

/**
 * Ordered, deadline-bound shutdown: stop consuming, flush producers, commit, close.
 * Steps run in the order they were added; a failing step is logged and the rest still
 * run, so one stuck dependency cannot keep offsets from being committed elsewhere.
 */
export class GracefulShutdown {
  private readonly steps: Step[] = [];
  private running: Promise<boolean> | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs = 10_000,
  ) {}

  add(name: string, run: () => Promise<void> | void): this {
    this.steps.push({ name, run });
    return this;
  }

  get started(): boolean {
    return this.running !== null;
  }

  /** Runs every step once; later calls return the same outcome. True when all finished in time. */
  run(reason: string): Promise<boolean> {
    this.running ??= this.execute(reason);
    return this.running;
  }

  private async execute(reason: string): Promise<boolean> {
    this.logger.info({ reason, steps: this.steps.map((s) => s.name) }, 'shutting down');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
      timer.unref();
    });
    const all = (async () => {
      let ok = true;
      for (const step of this.steps) {
        try {
          await step.run();
        } catch (err) {
          ok = false;
          this.logger.error({ err, step: step.name }, 'shutdown step failed');
        }
      }
      return ok;
    })();
    const outcome = await Promise.race([all, deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.error({ timeoutMs: this.timeoutMs }, 'shutdown deadline passed');
      return false;
    }
    this.logger.info({ ok: outcome }, 'shutdown complete');
    return outcome;
  }

  /**
   * SIGINT/SIGTERM run the steps then exit (0 when clean); a second signal exits at once.
   * Only a `main.ts` calls this: it is the one place a process is told to exit.
   */
  exitOnSignals(exit: (code: number) => void = (code) => process.exit(code)): void {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        this.logger.warn({ signal }, 'second signal: exiting now');
        exit(1);
        return;
      }
      void this.run(signal).then((ok) => exit(ok ? 0 : 1));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
}
