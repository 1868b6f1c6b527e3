// The stack on a real broker: every service as its own process, ready; one killed and
// restarted; a clean stop. And the compose file's topic step, run against the broker.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_TOPICS, COMPACTED_TOPICS, TOPICS } from '@ehr/features';
import { freePorts } from '@ehr/kafka-local';
import type {} from '@ehr/kafka-local/vitest';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { containerEnv, loadCompose } from '../../src/compose/check.js';
import { findRepoRoot, SERVICE_NAMES } from '../../src/services.js';
import { kafkaBacklog } from '../../src/drain.js';
import { isolatedEnv, startStack, type Stack, type StackLogEntry } from '../../src/stack.js';
import { createPipelineTopics } from '@ehr/init';

const root = findRepoRoot();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stack-kafka-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startStack on Kafka', () => {
  let stack: Stack;
  const logs: StackLogEntry[] = [];
  const unexpected: string[] = [];
  const env = { ...isolatedEnv(`deploy-stack-${process.pid}-${Date.now()}`), KAFKA_TOPIC_PARTITIONS: '3' };

  beforeAll(async () => {
    const ports = await freePorts(SERVICE_NAMES.length);
    stack = await startStack({
      brokers: inject('kafkaBrokers'),
      ports: Object.fromEntries(SERVICE_NAMES.map((s, i) => [s, ports[i]])),
      inheritEnv: false,
      env: { ...env, DUCKDB_PATH: join(dir, 'warehouse.duckdb') },
      logSink: (entry) => logs.push(entry),
      onUnexpectedExit: (report) => unexpected.push(report.service),
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('starts every service as its own process, each ready on Kafka', async () => {
    const readiness = await stack.readiness();
    for (const service of SERVICE_NAMES) {
      expect(readiness[service]?.status, `${service}: ${JSON.stringify(readiness[service]?.body)}`).toBe(200);
      expect(['ready', 'degraded']).toContain((readiness[service]?.body as { status: string }).status);
    }
    expect(new Set(SERVICE_NAMES.map((s) => stack.pid(s))).size).toBe(SERVICE_NAMES.length);
    const buses = logs.filter((l) => l.record && typeof l.record.bus === 'string').map((l) => [l.service, l.record!.bus]);
    expect(new Set(buses.map(([, bus]) => bus))).toEqual(new Set(['kafka']));
  });

  it('survives a killed service: it restarts, rejoins its group and is ready again', async () => {
    const report = await stack.kill('scoring');
    expect(report.signal).toBe('SIGKILL');
    await stack.restart('scoring');
    expect((await stack.readiness()).scoring?.status).toBe(200);
    expect(unexpected).toEqual([]);
  });

  it('stops in flow order, each stage once it has consumed everything before it: a burst accepted just before lands whole', async () => {
    const at = (i: number) => new Date(Date.now() - 3_600_000 + i * 1000).toISOString();
    const events = Array.from({ length: 800 }, (_, i) => ({
      schema: 'vital_sign', schemaVersion: 1, eventId: `stack-stop-${i}`, patientId: `P-${i % 40}`, encounterId: null,
      occurredAt: at(i), producedAt: at(i), source: 'api', payload: { kind: 'heart_rate', value: 60 + (i % 50), unit: '/min' },
    }));
    for (let i = 0; i < events.length; i += 200) {
      const r = await fetch(`${stack.url('producer')}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events.slice(i, i + 200)) });
      expect(r.status).toBe(202);
    }
    const backlog = await kafkaBacklog({ ...env, KAFKA_BROKERS: inject('kafkaBrokers') });
    try {
      const progress: string[] = [];
      const reports = await stack.stop({ backlog: backlog.backlog, timeoutMs: 120_000, onProgress: (service) => progress.push(service) });
      expect(reports.map((r) => [r.service, r.code, r.forced])).toEqual(SERVICE_NAMES.map((s) => [s, 0, false]));
      // Every stage committed everything before it stopped; the sink commits after its warehouse transaction.
      // (Alert and shadow-score topics are inputs too when the stack has their consumers: all must be 0.)
      const left = await backlog.byTopic(SERVICE_NAMES);
      expect(Object.keys(left)).toEqual(expect.arrayContaining([TOPICS.events, TOPICS.features, TOPICS.scores, TOPICS.deadLetter]));
      expect(Object.entries(left).filter(([, n]) => n !== 0)).toEqual([]);
      expect(progress.every((s) => ['feature', 'scoring', 'sink'].includes(s))).toBe(true);
    } finally {
      await backlog.close();
    }
  });
});

/** Every topic of @ehr/features exists under `prefix`, with its partitions and cleanup policy. */
async function expectPipelineTopics(prefix: string, partitions: number): Promise<void> {
  const admin = new Kafka({ brokers: inject('kafkaBrokers').split(','), clientId: 'deploy-test', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    for (const topic of ALL_TOPICS) expect(existing.has(`${prefix}${topic}`), topic).toBe(true);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: ALL_TOPICS.map((topic) => ({ type: ConfigResourceTypes.TOPIC, name: `${prefix}${topic}`, configNames: ['cleanup.policy'] })),
    });
    for (const resource of configs.resources) {
      const topic = resource.resourceName.slice(prefix.length) as (typeof ALL_TOPICS)[number];
      const policy = resource.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue;
      expect(policy, topic).toBe(COMPACTED_TOPICS.has(topic) ? 'compact' : 'delete');
    }
    const metadata = await admin.fetchTopicMetadata({ topics: ALL_TOPICS.map((t) => `${prefix}${t}`) });
    for (const topic of metadata.topics) expect(topic.partitions.length, topic.name).toBe(partitions);
  } finally {
    await admin.disconnect();
  }
}

describe('createPipelineTopics (what startStack runs before the services)', () => {
  it('creates every topic of @ehr/features with the variables the services read', async () => {
    const prefix = `deploy-create-${process.pid}-${Date.now()}.`;
    await createPipelineTopics({ KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '2' });
    await expectPipelineTopics(prefix, 2);
    // Again: existing topics are left as they are.
    await createPipelineTopics({ KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '4' });
    await expectPipelineTopics(prefix, 2);
  });
});

describe("docker-compose.yml's topics step", () => {
  it('creates every topic of @ehr/features on the broker, compacted where @ehr/features says', async () => {
    const topics = loadCompose(join(root, 'docker-compose.yml')).document.services!.topics!;
    const prefix = `deploy-topics-${process.pid}-${Date.now()}.`;
    const env = { PATH: process.env.PATH, ...containerEnv(topics, {}), KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_TOPIC_PREFIX: prefix };
    const argv = topics.command as string[];
    // The repository root stands for the image's /app: the same workspace links under node_modules/@ehr.
    const result = await new Promise<{ code: number | null; output: string }>((done) => {
      const child = spawn(argv[0]!, argv.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.once('close', (code) => done({ code, output }));
    });
    expect(result.code, result.output).toBe(0);

    await expectPipelineTopics(prefix, Number(containerEnv(topics, {}).KAFKA_TOPIC_PARTITIONS));
  });
});
