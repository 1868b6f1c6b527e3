// Alerting benchmark: scores/s through the service on the in-memory bus (the policy, the
// changelog writes and the alert events included), and the state machine alone. Writes
// bench-results/alerting.json and prints one JSON line.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlertEngine, loadPolicySync, scoreInputOf } from '@ehr/alerts';
import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { createRandom, TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { createAlertingService, loadConfig } from '../src/index.js';
import { scoreEvent, T0 } from '../test/fixtures.js';

const PATIENTS = 2_000;
const SCORES = 100_000;
const logger = createLogger({ service: 'alerting-bench', level: 'silent' });

// A ward: most patients low, some drifting up and down through the default threshold.
const rng = createRandom(7);
const drift = Array.from({ length: PATIENTS }, () => rng.next());
const scores = Array.from({ length: SCORES }, (_, i) => {
  const patient = i % PATIENTS;
  const minute = Math.floor(i / PATIENTS) * 15;
  const p = Math.max(0, Math.min(1, 0.005 + 0.06 * drift[patient]! * (1 + Math.sin(minute / 240 + patient)) + 0.01 * rng.next()));
  return scoreEvent({ patient: `bench-${patient}`, minute, p, band: p > 0.06 ? 'high' : p > 0.02 ? 'medium' : 'low', news2: Math.round(p * 60) % 12 });
});

// The machine alone.
const engine = new AlertEngine(loadPolicySync('default'));
const inputs = scores.map(scoreInputOf);
let t0 = performance.now();
let transitions = 0;
for (const input of inputs) transitions += engine.applyScore(input).transitions.length;
const machinePerSecond = SCORES / ((performance.now() - t0) / 1000);

// Through the service on the in-memory bus.
const broker = new MemoryBroker();
const client = new MemoryBus({ broker });
const config = loadConfig({ ALERTING_POLICY: 'default', KAFKA_TOPIC_PARTITIONS: '6' });
const service = createAlertingService({ config, logger, bus: new MemoryBus({ broker }), now: () => new Date(T0 + 30 * 24 * 3_600_000), manualClock: true });
await service.start();
await client.ensureTopics([{ topic: TOPICS.scores, partitions: 6 }]);
t0 = performance.now();
for (let i = 0; i < SCORES; i += 5_000) await client.produce(TOPICS.scores, scores.slice(i, i + 5_000).map((s) => ({ key: s.patientId, value: JSON.stringify(s) })));
const lastAt = Date.parse(scores[SCORES - 1]!.payload.eventTime);
const done = () => service.engine.patients === PATIENTS && service.engine.patientIds().every((id) => service.engine.state(id)?.latest?.at === lastAt);
while (!done()) await new Promise((r) => setTimeout(r, 20));
const serviceSeconds = (performance.now() - t0) / 1000;
await service.stop();
await service.app.close();

const result = {
  bench: 'alerting',
  patients: PATIENTS,
  scores: SCORES,
  transitions,
  machineScoresPerSecond: Math.round(machinePerSecond),
  serviceScoresPerSecond: Math.round(SCORES / serviceSeconds),
  openAlerts: service.engine.openAlerts().length,
  node: process.version,
};
mkdirSync(join(process.cwd(), '..', '..', 'bench-results'), { recursive: true });
writeFileSync(join(process.cwd(), '..', '..', 'bench-results', 'alerting.json'), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);
