import type { Logger } from '@ehr/runtime';
import type { ServiceUrl } from './config.js';

export type ServiceState = 'ready' | 'degraded' | 'not_ready' | 'unreachable' | 'unknown';

export interface ServiceHealth {
  name: string;
  url: string;
  state: ServiceState;
  httpStatus: number | null;
  /** Dependencies that are not up, e.g. `model: degraded (no model loaded)`. */
  detail: string | null;
  checkedAt: number | null;
  latencyMs: number | null;
}

interface ReadyBody {
  status?: unknown;
  dependencies?: Record<string, { state?: unknown; detail?: unknown }>;
}

export interface HealthPollerOptions {
  /** The services to poll: a list, or a function asked on every round (URLs known only once they listen). */
  services: readonly ServiceUrl[] | (() => readonly ServiceUrl[]);
  intervalMs: number;
  timeoutMs?: number;
  logger: Logger;
  fetch?: typeof fetch;
  now?: () => number;
}

/** Polls each service's `/health/ready` and keeps the last answer; tells a listener when anything changed. */
export class HealthPoller {
  private readonly states = new Map<string, ServiceHealth>();
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private listener: (() => void) | null = null;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: HealthPollerOptions) {
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.sync();
  }

  private services(): readonly ServiceUrl[] {
    const { services } = this.options;
    return typeof services === 'function' ? services() : services;
  }

  /** Keeps one entry per configured service, in configured order. True when the list changed. */
  private sync(): boolean {
    const services = this.services();
    const names = services.map((s) => `${s.name}\u0000${s.url}`).join('\u0001');
    const current = [...this.states.values()].map((s) => `${s.name}\u0000${s.url}`).join('\u0001');
    if (names === current) return false;
    const previous = new Map(this.states);
    this.states.clear();
    for (const s of services) {
      const old = previous.get(s.name);
      this.states.set(s.name, old && old.url === s.url ? old : { name: s.name, url: s.url, state: 'unknown', httpStatus: null, detail: null, checkedAt: null, latencyMs: null });
    }
    return true;
  }

  onChange(listener: () => void): void {
    this.listener = listener;
  }

  list(): ServiceHealth[] {
    return [...this.states.values()];
  }

  start(): void {
    if (this.timer) return;
    void this.pollOnce();
    this.timer = setInterval(() => void this.pollOnce(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  /** One round over every service (a round still running is joined, not doubled). */
  pollOnce(): Promise<void> {
    const listChanged = this.sync();
    this.inFlight ??= Promise.all(this.services().map((s) => this.check(s))).then(
      (results) => {
        this.inFlight = null;
        if (listChanged || results.some(Boolean)) this.listener?.();
      },
      () => {
        this.inFlight = null;
      },
    );
    return this.inFlight;
  }

  /** True when the service's state or detail changed. */
  private async check(service: ServiceUrl): Promise<boolean> {
    const started = this.now();
    let next: ServiceHealth;
    try {
      const response = await this.fetchImpl(`${service.url}/health/ready`, {
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 2_000),
        headers: { accept: 'application/json' },
      });
      const body = (await response.json().catch(() => ({}))) as ReadyBody;
      const status = body.status;
      const state: ServiceState =
        status === 'ready' || status === 'degraded' || status === 'not_ready' ? status : response.ok ? 'ready' : 'not_ready';
      const problems = Object.entries(body.dependencies ?? {})
        .filter(([, d]) => d.state !== 'up')
        .map(([name, d]) => `${name}: ${String(d.state)}${typeof d.detail === 'string' ? ` (${d.detail.slice(0, 120)})` : ''}`);
      next = { ...this.base(service), state, httpStatus: response.status, detail: problems.length ? problems.join('; ') : null, checkedAt: this.now(), latencyMs: this.now() - started };
    } catch (err) {
      const reason = err instanceof Error ? (err.name === 'TimeoutError' ? 'timed out' : (err.cause as Error | undefined)?.message ?? err.message) : String(err);
      next = { ...this.base(service), state: 'unreachable', httpStatus: null, detail: reason, checkedAt: this.now(), latencyMs: null };
    }
    const previous = this.states.get(service.name);
    this.states.set(service.name, next);
    const changed = previous?.state !== next.state || previous.detail !== next.detail;
    if (changed) this.options.logger.info({ dependency: service.name, state: next.state, detail: next.detail }, 'service health changed');
    return changed;
  }

  private base(service: ServiceUrl) {
    return { name: service.name, url: service.url };
  }
}
