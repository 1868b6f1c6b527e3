// The warehouse is unusable: consumption pauses, readiness says degraded (with the error
// and the next try), and the sink tries again with a growing backoff until a write lands.
import { backoffDelay, errorMessage, type DependencyStatus, type Logger } from '@ehr/runtime';

export interface OutageDeps {
  backoff: { initialMs: number; maxMs: number };
  logger: Logger;
  /** The warehouse's description (readiness detail once it is back). */
  description: string;
  onStatus?: (status: DependencyStatus) => void;
  /** Stop consuming while the warehouse is down. */
  pause: () => void;
  /** Try again (re-read the offsets, write what is buffered); calls `recovered()` when it worked. */
  tryAgain: () => Promise<void>;
}

export class Outage {
  private state: { since: number; failures: number; timer: NodeJS.Timeout | null } | null = null;
  private stopped = false;

  constructor(private readonly deps: OutageDeps) {}

  /** The warehouse is failing: no new writes until a retry lands. */
  get active(): boolean {
    return this.state !== null;
  }

  /** A write failed: pause, report, and schedule the next try. */
  failed(err: unknown): void {
    const message = errorMessage(err);
    if (!this.state) {
      this.state = { since: Date.now(), failures: 0, timer: null };
      this.deps.logger.error({ err }, 'warehouse write failed; pausing consumption and retrying');
    }
    this.state.failures++;
    this.deps.pause();
    if (this.stopped) return;
    const delay = backoffDelay(this.deps.backoff, this.state.failures);
    this.deps.onStatus?.({ state: 'degraded', detail: `write failed (${message}); retry ${this.state.failures} in ${delay} ms, consumption paused` });
    if (this.state.timer) clearTimeout(this.state.timer);
    this.state.timer = setTimeout(() => {
      if (this.state) this.state.timer = null;
      if (!this.stopped) void this.deps.tryAgain();
    }, delay);
    this.state.timer.unref();
  }

  /** A write landed: report the warehouse up again. Returns whether it had been down. */
  recovered(): boolean {
    if (!this.state) return false;
    const { since, failures, timer } = this.state;
    if (timer) clearTimeout(timer);
    this.state = null;
    this.deps.logger.info({ downMs: Date.now() - since, failures }, 'warehouse writes recovered; resuming consumption');
    this.deps.onStatus?.({ state: 'up', detail: this.deps.description });
    return true;
  }

  /** Shutting down: no more tries are scheduled. */
  stop(): void {
    this.stopped = true;
    if (this.state?.timer) clearTimeout(this.state.timer);
  }
}
