// The producer's speeds: synthetic generation, cohort CSV write and read, MEDS read and
// replay, publishing on the in-memory bus, FHIR Bundle ingestion; and the synthetic ward's
// vital and lab distributions beside the MIMIC-IV demo's.
//   npm run bench -w services/producer        (or the root `npm run bench`)
// BENCH_PATIENTS (500) and BENCH_HOURS (120) size the cohort. Results: bench-results/producer.json.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryBus } from '@ehr/bus';
import { cohortMeta, cohortPatients, cohortStream, distributions, labelGrid, MEDS_DEMO_RELATIVE_PATH, readCohort, readMeds, shiftMedsTimeline, writeCohort, type Distribution } from '@ehr/cohort';
import { createLogger, createMetricsRegistry } from '@ehr/runtime';
import { createEventPublisher, createProducerService, loadConfig, streamEvents } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..', '..', '..'); // dist/.bench/bench → repository root
const env = process.env;
const patients = Number(env.BENCH_PATIENTS ?? 500);
const hours = Number(env.BENCH_HOURS ?? 120);
const perSecond = (n: number, ms: number) => Math.round((n * 1000) / ms);
const time = async <T>(f: () => Promise<T> | T): Promise<[T, number]> => {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
};
const say = (line: string) => void process.stdout.write(`${line}\n`);

async function main() {
  const options = { seed: 1, patients, hours };
  const [generated, genMs] = await time(() => {
    let n = 0;
    for (const _ of cohortStream(options)) n++;
    return n;
  });
  say(`generation: ${generated} events in ${(genMs / 1000).toFixed(1)} s = ${perSecond(generated, genMs)} events/s (${patients} patients × ${hours} h)`);

  const labels = labelGrid(cohortPatients(options), { end: cohortMeta(options).end });
  const prevalence = labels.filter((l) => l.label === 1).length / labels.length;
  say(`labels: ${labels.length} hourly rows, prevalence ${(prevalence * 100).toFixed(2)} % (12 h horizon)`);

  const dir = mkdtempSync(join(tmpdir(), 'producer-bench-'));
  try {
    const [, writeMs] = await time(() => writeCohort(dir, { meta: cohortMeta(options), patients: cohortPatients(options), events: cohortStream(options) }));
    say(`generate + write CSV: ${perSecond(generated, writeMs)} events/s`);
    const [read, readMs] = await time(async () => {
      let n = 0;
      for await (const _ of (await readCohort(dir)).events) n++;
      return n;
    });
    say(`read CSV (validated): ${perSecond(read, readMs)} events/s`);

    const bus = new MemoryBus();
    await bus.connect();
    const publisher = createEventPublisher(bus, createMetricsRegistry('bench', { defaultMetrics: false }));
    const events = [...cohortStream(options)].map((r) => r.event);
    const [, publishMs] = await time(() => streamEvents({ events, pace: { kind: 'max' }, publish: (b) => publisher.publish(b) }));
    say(`publish (in-memory bus, max pace): ${perSecond(events.length, publishMs)} events/s`);
    await bus.close();

    const medsFile = resolve(root, MEDS_DEMO_RELATIVE_PATH);
    let meds: Record<string, unknown> | null = null;
    let mimic: Distribution[] = [];
    if (existsSync(medsFile)) {
      const [data, medsReadMs] = await time(() => readMeds(medsFile));
      const shifted = shiftMedsTimeline(data, { startMs: Date.now() });
      const medsBus = new MemoryBus();
      await medsBus.connect();
      const medsPublisher = createEventPublisher(medsBus, createMetricsRegistry('bench-meds', { defaultMetrics: false }));
      const [, replayMs] = await time(() => streamEvents({ events: shifted, pace: { kind: 'max' }, publish: (b) => medsPublisher.publish(b) }));
      await medsBus.close();
      meds = { events: data.events.length, readAndMapMs: Math.round(medsReadMs), replayEventsPerSecond: perSecond(shifted.length, replayMs), replayIncludingReadEventsPerSecond: perSecond(shifted.length, replayMs + medsReadMs) };
      say(`MEDS: read + map ${data.events.length} events in ${(medsReadMs / 1000).toFixed(1)} s; replay at max ${perSecond(shifted.length, replayMs)} events/s (${perSecond(shifted.length, replayMs + medsReadMs)} including the read)`);
      mimic = distributions(data.events);
    } else say(`MEDS: skipped, ${medsFile} not found`);

    const service = createProducerService({ config: loadConfig({}), logger: createLogger({ service: 'bench', level: 'silent' }), bus: new MemoryBus() });
    await service.start();
    const observation = (i: number) => ({
      resourceType: 'Observation',
      id: `hr-${i}`,
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/p${i % 50}` },
      effectiveDateTime: '2026-01-01T10:00:00Z',
      valueQuantity: { value: 80, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    });
    const bundle = JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: Array.from({ length: 500 }, (_, i) => ({ resource: observation(i) })) });
    const rounds = 20;
    const [, fhirMs] = await time(async () => {
      for (let i = 0; i < rounds; i++) await service.app.inject({ method: 'POST', url: '/fhir', headers: { 'content-type': 'application/fhir+json' }, payload: bundle });
    });
    await service.stop();
    await service.app.close();
    say(`FHIR Bundle ingestion (batch of 500 Observations, app.inject): ${perSecond(rounds * 500, fhirMs)} Observations/s`);

    const synthetic = distributions([...cohortStream({ ...options, artefactRate: 0 })].map((r) => r.event));
    const table = distributionTable(synthetic, mimic);
    say(`\n${table}`);

    const result = {
      bench: 'producer',
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
      cohort: { patients, hours, events: generated },
      generationEventsPerSecond: perSecond(generated, genMs),
      csvWriteEventsPerSecond: perSecond(generated, writeMs),
      csvReadEventsPerSecond: perSecond(read, readMs),
      publishMemoryBusEventsPerSecond: perSecond(events.length, publishMs),
      fhirObservationsPerSecond: perSecond(rounds * 500, fhirMs),
      labelPrevalence: Number(prevalence.toFixed(4)),
      meds,
      distributions: { synthetic, mimic },
    };
    const out = join(root, 'bench-results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'producer.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(out, 'producer-distributions.md'), `${table}\n`);
    say(`\nwrote ${join(out, 'producer.json')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function distributionTable(synthetic: Distribution[], mimic: Distribution[]): string {
  const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));
  const cell = (d: Distribution | undefined) => (d ? `${fmt(d.median)} (${fmt(d.p25)}–${fmt(d.p75)})` : '–');
  const lines = ['| signal | synthetic median (IQR) | MIMIC-IV demo median (IQR) | n synthetic | n MIMIC |', '|---|---|---|---|---|'];
  for (const s of synthetic) {
    const m = mimic.find((x) => x.kind === s.kind);
    lines.push(`| ${s.kind} | ${cell(s)} | ${cell(m)} | ${s.n} | ${m?.n ?? 0} |`);
  }
  return lines.join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
