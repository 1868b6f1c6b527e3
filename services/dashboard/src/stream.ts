import type { ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, type Logger, type Registry } from '@ehr/runtime';
import type { ServiceHealth } from './health.js';
import { KEY_VITALS } from './vitals.js';
import type { WardState } from './ward.js';

export interface StreamOptions {
  ward: WardState;
  health: () => ServiceHealth[];
  logger: Logger;
  metrics: Registry;
  /** Changes are coalesced and pushed at most this often. */
  intervalMs: number;
  sparkPoints: number;
  /** Idle streams get a comment this often so proxies keep them open. */
  heartbeatMs?: number;
  /** Patients idle past the TTL are swept this often. */
  sweepMs?: number;
  /** A client whose socket buffers more than this is too slow: it is skipped, then resynced with a snapshot. */
  maxBufferedBytes?: number;
}

interface Client {
  id: number;
  res: ServerResponse;
  /** Waiting for a full snapshot (new, or resyncing after it fell behind). */
  needsSnapshot: boolean;
  /** Its socket buffer is over the high-water mark: updates are skipped until it drains. */
  congested: boolean;
  /** An update was skipped while congested, so the page is behind and needs a snapshot. */
  missed: boolean;
}

/**
 * Server-sent events to every open page. One serialization per push is written to all
 * clients; a client that cannot keep up is not buffered without bound but skipped and
 * later sent a fresh snapshot. Written by hand (a few lines of the SSE wire format) for
 * exactly that: shared frames and snapshot-on-resync, which the plugins do not offer.
 */
export class WardStream {
  private readonly clients = new Map<number, Client>();
  private nextId = 1;
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private lastSweep = 0;
  private healthDirty = false;
  private readonly pushes: Counter;
  private readonly bytes: Counter;
  private readonly pushSeconds: Histogram;

  constructor(private readonly options: StreamOptions) {
    const { metrics } = options;
    const clients = this.clients;
    new Gauge({
      name: 'ehr_dashboard_sse_clients',
      help: 'open event streams',
      registers: [metrics],
      collect() {
        this.set(clients.size);
      },
    });
    this.pushes = new Counter({ name: 'ehr_dashboard_pushes_total', help: 'update frames pushed (one per interval with changes)', labelNames: ['kind'], registers: [metrics] });
    this.bytes = new Counter({ name: 'ehr_dashboard_push_bytes_total', help: 'bytes written to event streams', registers: [metrics] });
    this.pushSeconds = new Histogram({
      name: 'ehr_dashboard_push_duration_seconds',
      help: 'time to drain, serialize and write one push',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
      registers: [metrics],
    });
  }

  get size(): number {
    return this.clients.size;
  }

  markHealthChanged(): void {
    this.healthDirty = true;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.flush(), this.options.intervalMs);
    this.timer.unref();
    this.heartbeat = setInterval(() => this.writeAll(': ping\n\n'), this.options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  /** Ends every stream (before the HTTP server closes, which would otherwise wait for them). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = null;
    this.heartbeat = null;
    for (const client of this.clients.values()) client.res.end();
    this.clients.clear();
  }

  /** Takes over a response: the snapshot follows on the next push, then updates. */
  attach(res: ServerResponse): void {
    const client: Client = { id: this.nextId++, res, needsSnapshot: true, congested: false, missed: false };
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    res.on('drain', () => {
      client.congested = false;
      if (client.missed) client.needsSnapshot = true;
      client.missed = false;
    });
    res.on('close', () => this.clients.delete(client.id));
    this.clients.set(client.id, client);
  }

  /** One push: the coalesced delta to live clients, a snapshot to new or resyncing ones. */
  flush(): void {
    const end = this.pushSeconds.startTimer();
    const { ward, sparkPoints } = this.options;
    const now = Date.now();
    if (now - this.lastSweep >= (this.options.sweepMs ?? 1_000)) {
      ward.sweep(now);
      this.lastSweep = now;
    }
    const delta = ward.drain(sparkPoints);
    const health = this.healthDirty ? this.options.health() : undefined;
    this.healthDirty = false;
    if (delta || health) {
      const frame = `event: update\ndata: ${JSON.stringify({ ...(delta ?? { upserts: [], removed: [], alerts: [] }), ...(health ? { health } : {}) })}\n\n`;
      let sent = 0;
      for (const client of this.clients.values()) {
        if (client.needsSnapshot) continue;
        if (client.congested) {
          client.missed = true;
          continue;
        }
        this.write(client, frame);
        sent++;
      }
      if (sent > 0) this.pushes.inc({ kind: 'update' });
    }
    const waiting = [...this.clients.values()].filter((c) => c.needsSnapshot && !c.congested);
    if (waiting.length > 0) {
      const frame = `event: snapshot\ndata: ${JSON.stringify(this.snapshot())}\n\n`;
      for (const client of waiting) {
        client.needsSnapshot = false;
        this.write(client, frame);
      }
      this.pushes.inc({ kind: 'snapshot' });
    }
    end();
  }

  /** Everything a page needs to draw the ward from scratch. */
  snapshot() {
    return {
      ...this.options.ward.snapshot(this.options.sparkPoints),
      health: this.options.health(),
      config: {
        pushIntervalMs: this.options.intervalMs,
        sparkPoints: this.options.sparkPoints,
        vitals: KEY_VITALS.map(({ key, label, unit }) => ({ key, label, unit })),
      },
    };
  }

  private writeAll(text: string): void {
    for (const client of this.clients.values()) if (!client.congested) this.write(client, text);
  }

  private write(client: Client, text: string): void {
    const ok = client.res.write(text);
    this.bytes.inc(Buffer.byteLength(text));
    if (!ok) client.congested = true;
    if (client.res.writableLength > (this.options.maxBufferedBytes ?? 16 * 1024 * 1024)) {
      this.options.logger.warn({ client: client.id, buffered: client.res.writableLength }, 'event stream too far behind: closing it');
      client.res.destroy();
      this.clients.delete(client.id);
    }
  }
}
