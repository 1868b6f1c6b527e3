export type DependencyState = 'up' | 'degraded' | 'down';

export interface DependencyStatus {
  state: DependencyState;
  detail?: string;
}

export interface DependencyReport extends DependencyStatus {
  critical: boolean;
}

export type ReadinessStatus = 'ready' | 'degraded' | 'not_ready';

export interface ReadinessReport {
  status: ReadinessStatus;
  service: string;
  dependencies: Record<string, DependencyReport>;
}

type Check = () => DependencyStatus | Promise<DependencyStatus>;

/**
 * What a service needs to do its job, and how each piece is doing. A critical
 * dependency that is down makes the service not ready (503); anything degraded, or a
 * non-critical dependency down, makes it degraded (200, still serving).
 */
export class Readiness {
  private readonly checks = new Map<string, { check: Check; critical: boolean }>();

  constructor(readonly service: string) {}

  /** A dependency whose state is asked for on each readiness probe. */
  register(name: string, check: Check, options: { critical?: boolean } = {}): this {
    this.checks.set(name, { check, critical: options.critical ?? true });
    return this;
  }

  /** A dependency whose state the service pushes (e.g. "state restored"). */
  track(name: string, initial: DependencyStatus, options: { critical?: boolean } = {}): (status: DependencyStatus) => void {
    let current = initial;
    this.register(name, () => current, options);
    return (status) => {
      current = status;
    };
  }

  async report(): Promise<ReadinessReport> {
    const dependencies: Record<string, DependencyReport> = {};
    await Promise.all(
      [...this.checks].map(async ([name, { check, critical }]) => {
        try {
          dependencies[name] = { ...(await check()), critical };
        } catch (err) {
          dependencies[name] = { state: 'down', detail: err instanceof Error ? err.message : String(err), critical };
        }
      }),
    );
    const reports = Object.values(dependencies);
    const status: ReadinessStatus = reports.some((d) => d.critical && d.state === 'down')
      ? 'not_ready'
      : reports.some((d) => d.state !== 'up')
        ? 'degraded'
        : 'ready';
    return { status, service: this.service, dependencies };
  }
}
