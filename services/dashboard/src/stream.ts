import type { ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, type Logger, type Registry } from '@ehr/runtime';
import type { ServiceHealth } from './health.js';
import { KEY_VITALS } from './vitals.js';
import { POINT_FIELDS, type WardState } from './ward.js';

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
  /**
   * A page whose socket is full is skipped and later resynced with a snapshot; once the
   * updates it missed, or the bytes waiting beyond the frame it is being sent, pass this,
   * it is too slow and is closed (it reconnects). Default 1 MiB.
   */
  maxBufferedBytes?: number;
  /** Open streams at most (503 past it) and per client address (429). */
  maxClients?: number;
  maxPerAddress?: number;
  /** A client whose socket stays full this long is closed (it reconnects if it still lives). */
  stuckMs?: number;
}

export type Admission = { ok: true } | { ok: false; status: 429 | 503; message: string };

interface Client {
  id: number;
  res: ServerResponse;
  address: string;
  /** Since when its socket has been full (0: it is not). */
  congestedSince: number;
  /** Waiting for a full snapshot (new, or resyncing after it fell behind). */
  needsSnapshot: boolean;
  /** Its socket buffer is over the high-water mark: updates are skipped until it drains. */
  congested: boolean;
  /** An update was skipped while congested, so the page is behind and needs a snapshot. */
  missed: boolean;
  /** Bytes of updates skipped since its socket filled: past the cap it is too slow. */
  missedBytes: number;
}

/**
 * Server-sent events to every open page. One serialization per push is written to all
 * clients; a client that cannot keep up is not buffered without bound but skipped and
 * later sent a fresh snapshot, and closed past a small buffer. Open streams are capped in
 * total and per address. The snapshot is serialized once per change and shared by new
 * pages and `GET /api/ward`. Written by hand (a few lines of the SSE wire format) for
 * exactly that: shared frames and snapshot-on-resync, which the plugins do not offer.
 */
export class WardStream {
  private readonly clients = new Map<number, Client>();
  private readonly perAddress = new Map<string, number>();
  private snapshotText: string | null = null;
  private readonly snapshotBuilds: Counter;
  private readonly refused: Counter;
  private readonly dropped: Counter;
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
    this.snapshotBuilds = new Counter({ name: 'ehr_dashboard_snapshot_builds_total', help: 'ward snapshots serialized (one per change, shared by every page and /api/ward)', registers: [metrics] });
    this.refused = new Counter({ name: 'ehr_dashboard_sse_refused_total', help: 'event streams refused, by reason (total or per-address cap)', labelNames: ['reason'], registers: [metrics] });
    this.dropped = new Counter({ name: 'ehr_dashboard_sse_dropped_total', help: 'event streams closed because the page fell too far behind', labelNames: ['reason'], registers: [metrics] });
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
    this.heartbeat = setInterval(() => {
      this.dropStuck();
      this.writeAll(': ping\n\n');
    }, this.options.heartbeatMs ?? 15_000);
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
    this.perAddress.clear();
  }

  /** May one more page from `address` open a stream? */
  admit(address: string): Admission {
    const max = this.options.maxClients ?? 200;
    if (this.clients.size >= max) {
      this.refused.inc({ reason: 'total' });
      return { ok: false, status: 503, message: `${max} live pages are open, the most this dashboard serves: try again later` };
    }
    const perAddress = this.options.maxPerAddress ?? 10;
    if ((this.perAddress.get(address) ?? 0) >= perAddress) {
      this.refused.inc({ reason: 'address' });
      return { ok: false, status: 429, message: `${perAddress} live pages are open from this address, the most one client may have: close one` };
    }
    return { ok: true };
  }

  /** Takes over a response: the snapshot follows on the next push, then updates. Call `admit` first. */
  attach(res: ServerResponse, address = 'unknown'): void {
    const client: Client = { id: this.nextId++, res, address, congestedSince: 0, needsSnapshot: true, congested: false, missed: false, missedBytes: 0 };
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    res.on('drain', () => {
      client.congested = false;
      client.congestedSince = 0;
      if (client.missed) client.needsSnapshot = true;
      client.missed = false;
      client.missedBytes = 0;
    });
    res.on('close', () => this.forget(client));
    this.clients.set(client.id, client);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
  }

  private forget(client: Client): void {
    if (!this.clients.delete(client.id)) return;
    const left = (this.perAddress.get(client.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(client.address, left);
    else this.perAddress.delete(client.address);
  }

  /** One push: the coalesced delta to live clients, a snapshot to new or resyncing ones. */
  flush(): void {
    const end = this.pushSeconds.startTimer();
    const { ward, sparkPoints } = this.options;
    const now = Date.now();
    if (now - this.lastSweep >= (this.options.sweepMs ?? 1_000)) {
      if (ward.sweep(now) > 0) this.snapshotText = null;
      this.lastSweep = now;
    }
    const delta = ward.drain(sparkPoints);
    const health = this.healthDirty ? this.options.health() : undefined;
    this.healthDirty = false;
    if (delta || health) this.snapshotText = null;
    if (delta || health) {
      const frame = `event: update\ndata: ${JSON.stringify({ ...(delta ?? { upserts: [], removed: [], alerts: [] }), ...(health ? { health } : {}) })}\n\n`;
      const frameBytes = Buffer.byteLength(frame);
      let sent = 0;
      for (const client of [...this.clients.values()]) {
        if (client.needsSnapshot) continue;
        if (client.congested) {
          client.missed = true;
          client.missedBytes += frameBytes;
          if (client.missedBytes > this.maxBuffered) this.drop(client, 'buffer', client.res.writableLength + client.missedBytes);
          continue;
        }
        this.write(client, frame);
        sent++;
      }
      if (sent > 0) this.pushes.inc({ kind: 'update' });
    }
    const waiting = [...this.clients.values()].filter((c) => c.needsSnapshot && !c.congested);
    if (waiting.length > 0) {
      const frame = `event: snapshot\ndata: ${this.snapshotJson()}\n\n`;
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
        /** The layout of every time-series point: `[t, p, n2, hr, …]`. */
        pointFields: POINT_FIELDS,
        vitals: KEY_VITALS.map(({ key, label, title, unit, digits }) => ({ key, label, title, unit, digits })),
      },
    };
  }

  /**
   * The snapshot as JSON, serialized once per change (a push that changed something, a
   * sweep that evicted) and shared by new pages and `GET /api/ward`.
   */
  snapshotJson(): string {
    if (this.snapshotText === null) {
      this.snapshotText = JSON.stringify(this.snapshot());
      this.snapshotBuilds.inc();
    }
    return this.snapshotText;
  }

  private writeAll(text: string): void {
    for (const client of [...this.clients.values()]) if (!client.congested) this.write(client, text);
  }

  /** Pages whose socket stayed full past `stuckMs` are gone or hopelessly slow: close them. */
  private dropStuck(now = Date.now()): void {
    const stuckMs = this.options.stuckMs ?? 60_000;
    for (const client of [...this.clients.values()]) {
      if (client.congestedSince > 0 && now - client.congestedSince > stuckMs) this.drop(client, 'stuck', client.res.writableLength);
    }
  }

  private drop(client: Client, reason: 'buffer' | 'stuck', buffered: number): void {
    this.options.logger.warn({ client: client.id, buffered, reason }, 'event stream too far behind: closing it');
    this.dropped.inc({ reason });
    client.res.destroy();
    this.forget(client);
  }

  private write(client: Client, text: string): void {
    const bytes = Buffer.byteLength(text);
    const ok = client.res.write(text);
    this.bytes.inc(bytes);
    if (!ok && !client.congested) {
      client.congested = true;
      client.congestedSince = Date.now();
    }
    // One frame may sit in the buffer whatever its size (a page must be able to take a whole
    // snapshot of a large ward); beyond it, unsent bytes count against the cap.
    if (client.res.writableLength > this.maxBuffered + bytes) this.drop(client, 'buffer', client.res.writableLength);
  }

  private get maxBuffered(): number {
    return this.options.maxBufferedBytes ?? 1024 * 1024;
  }
}
