// Dashboard bench: 1,000 patients on the page, scores produced on the (in-memory) bus at a
// steady rate; measures the time from produce to the DOM showing the score (p50/p99), the
// page's per-frame work, its JS heap, and the server's memory.
//   npm run bench -w services/dashboard        (BENCH_PATIENTS, BENCH_RATE, BENCH_SECONDS, BENCH_HISTORY)
import { mkdirSync, writeFileSync } from 'node:fs';
import { MemoryBus } from '@ehr/bus';
import { createRandom, TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { createDashboardService, loadConfig } from '../src/index.js';
import { launchChromium } from '../test/browser.js';
import { scoreBytes, type ScoreSpec } from '../test/fixtures.js';

const env = process.env;
const PATIENTS = Number(env.BENCH_PATIENTS ?? 1000);
const RATE = Number(env.BENCH_RATE ?? 200); // scores per second over the whole ward
const SECONDS = Number(env.BENCH_SECONDS ?? 20);
const HISTORY = Number(env.BENCH_HISTORY ?? 40); // scores per patient before the page opens
const out = (line: string) => void process.stdout.write(`${line}\n`);
const gc = (globalThis as { gc?: () => void }).gc;
const heapAfterGc = () => {
  gc?.();
  return process.memoryUsage().heapUsed;
};
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

const rng = createRandom(20260301);
const T0 = Date.parse('2026-03-01T00:00:00Z');
const UNITS = ['Ward 5', 'Ward 6', 'AMU', 'Cardiology', 'Respiratory'];
const bands = ['low', 'medium', 'high'] as const;
const state = Array.from({ length: PATIENTS }, (_, i) => ({ id: `bench-${String(i).padStart(4, '0')}`, t: T0, severity: rng.next() }));
const next = (i: number): ScoreSpec => {
  const p = state[i]!;
  p.t += 60_000;
  p.severity = Math.min(1, Math.max(0, p.severity + rng.normal(0, 0.05)));
  const band = bands[p.severity > 0.85 ? 2 : p.severity > 0.6 ? 1 : 0];
  return {
    patientId: p.id,
    t: p.t,
    band,
    probability: p.severity,
    news2: Math.round(p.severity * 12),
    unit: UNITS[i % UNITS.length]!,
    vitals: { heart_rate: 60 + p.severity * 70, respiratory_rate: 12 + p.severity * 16, spo2: 99 - p.severity * 10, systolic_bp: 130 - p.severity * 40, temperature: 36.5 + p.severity * 2 },
  };
};

const baseHeap = heapAfterGc();
const bus = new MemoryBus();
const logger = createLogger({ service: 'dashboard', level: 'warn' });
const config = loadConfig({ DASHBOARD_SERVICE_URLS: '' });
const service = createDashboardService({ config, logger, bus });
await service.app.listen({ host: '127.0.0.1', port: 0 });
const url = `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;
await service.start();

// The ward before the page opens: HISTORY scores per patient.
for (let h = 0; h < HISTORY; h++) {
  await bus.produce(TOPICS.scores, state.map((_, i) => { const s = next(i); return { key: s.patientId, value: scoreBytes(s) }; }));
}
while (service.ward.size < PATIENTS || (service.ward.patient(state[PATIENTS - 1]!.id)?.hist.length ?? 0) < Math.min(HISTORY, config.DASHBOARD_HISTORY_POINTS)) {
  await new Promise((r) => setTimeout(r, 50));
}
const wardHeap = heapAfterGc() - baseHeap;

const browser = await launchChromium();
// The page's CSP forbids eval; the bench's string predicates need it.
const page = await browser.newPage({ viewport: { width: 1920, height: 1080 }, bypassCSP: true });
const cdp = await page.context().newCDPSession(page);
const loadStart = Date.now();
await page.goto(url);
await page.waitForFunction(`document.querySelectorAll('#rows [data-band]').length === ${PATIENTS}`, undefined, { timeout: 120_000, polling: 100 });
const loadMs = Date.now() - loadStart;
await page.evaluate(`(() => {
  window.__lat = []; window.__frames = [];
  addEventListener('dashboard:render', (e) => {
    window.__frames.push([e.detail.ms, e.detail.phases]);
    // The next frame starts after this one is painted: that is when the score is on screen.
    requestAnimationFrame(() => {
      const painted = Date.now();
      for (const [id, t] of e.detail.rendered) window.__lat.push([id, t, e.detail.at, painted]);
    });
  });
})()`);

// Live phase: RATE scores a second, in 20 ms slices, to random patients.
const sent = new Map<string, number>();
const sliceMs = 20;
const perSlice = (RATE * sliceMs) / 1000;
let carry = 0;
const phaseEnd = Date.now() + SECONDS * 1000;
let produced = 0;
while (Date.now() < phaseEnd) {
  const sliceStart = Date.now();
  carry += perSlice;
  const n = Math.floor(carry);
  carry -= n;
  const batch = Array.from({ length: n }, () => next(rng.int(0, PATIENTS - 1)));
  const at = Date.now();
  for (const s of batch) sent.set(`${s.patientId}|${s.t}`, at);
  if (batch.length) await bus.produce(TOPICS.scores, batch.map((s) => ({ key: s.patientId, value: scoreBytes(s) })));
  produced += batch.length;
  await new Promise((r) => setTimeout(r, Math.max(0, sliceMs - (Date.now() - sliceStart))));
}
await new Promise((r) => setTimeout(r, 1500));

const seen = await page.evaluate<[string, number, number, number][]>('window.__lat');
const frameDetail = await page.evaluate<[number, Record<string, number>][]>('window.__frames');
const frames = frameDetail.map(([ms]) => ms);
const phaseP50 = Object.fromEntries(Object.keys(frameDetail[0]?.[1] ?? {}).map((k) => [k, +pct(frameDetail.map(([, ph]) => ph[k] ?? 0), 50).toFixed(1)]));
const latencies: number[] = [];
const paintLatencies: number[] = [];
for (const [id, t, at, painted] of seen) {
  const start = sent.get(`${id}|${t}`);
  if (start !== undefined) {
    latencies.push(at - start);
    paintLatencies.push(painted - start);
    sent.delete(`${id}|${t}`);
  }
}
// Scores coalesced into a later one of the same patient within one push are shown by it: not lost, just superseded.
await cdp.send('HeapProfiler.collectGarbage');
const { usedSize: pageHeap } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
const domNodes = await page.evaluate<number>('document.getElementsByTagName("*").length');
await page.screenshot({ path: 'test-artifacts/bench-1000.png' }).catch(() => undefined);
const rss = process.memoryUsage().rss;

const result = {
  patients: PATIENTS,
  historyPerPatient: HISTORY,
  pushIntervalMs: config.DASHBOARD_PUSH_INTERVAL_MS,
  rate: RATE,
  seconds: SECONDS,
  produced,
  shownDirectly: latencies.length,
  supersededWithinOnePush: sent.size,
  updateLatencyMs: { p50: pct(latencies, 50), p90: pct(latencies, 90), p99: pct(latencies, 99), max: Math.max(...latencies) },
  paintedLatencyMs: { p50: pct(paintLatencies, 50), p90: pct(paintLatencies, 90), p99: pct(paintLatencies, 99), max: Math.max(...paintLatencies) },
  frameWorkMs: { p50: +pct(frames, 50).toFixed(1), p99: +pct(frames, 99).toFixed(1), frames: frames.length, phaseP50 },
  initialLoadMs: loadMs,
  pageJsHeap: mb(pageHeap),
  pageDomNodes: domNodes,
  serverWardHeap: mb(wardHeap),
  serverProcessRss: mb(rss),
};
out(`dashboard bench: ${PATIENTS} patients, ${RATE} scores/s for ${SECONDS} s, push every ${config.DASHBOARD_PUSH_INTERVAL_MS} ms`);
out(`  update latency (produce → DOM): p50 ${result.updateLatencyMs.p50} ms, p90 ${result.updateLatencyMs.p90} ms, p99 ${result.updateLatencyMs.p99} ms, max ${result.updateLatencyMs.max} ms (${latencies.length} of ${produced} shown directly, ${sent.size} superseded within one push)`);
out(`  to the next frame after paint: p50 ${result.paintedLatencyMs.p50} ms, p90 ${result.paintedLatencyMs.p90} ms, p99 ${result.paintedLatencyMs.p99} ms`);
out(`  page work per frame: p50 ${result.frameWorkMs.p50} ms, p99 ${result.frameWorkMs.p99} ms over ${frames.length} frames (p50 by phase: ${JSON.stringify(phaseP50)}); first load ${loadMs} ms`);
out(`  page JS heap ${result.pageJsHeap}, ${domNodes} DOM nodes; server ward heap ${result.serverWardHeap}, bench process RSS ${result.serverProcessRss} (server + bus + harness)`);
mkdirSync('../../bench-results', { recursive: true });
writeFileSync('../../bench-results/dashboard.json', JSON.stringify(result, null, 2) + '\n');

await browser.close();
await service.stop();
await service.app.close();
