import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBus, KafkaBus } from '@ehr/bus';
import { TOPICS, type SeverityScoreEvent } from '@ehr/features';
import type {} from '@ehr/kafka-local/vitest';
import { createLogger } from '@ehr/runtime';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createScoringService, loadConfig } from '../../src/index.js';
import { collectScores, syntheticFeatures, trainTestModel, vectorEvent, waitFor } from '../fixtures.js';

const logger = createLogger({ service: 'scoring-test', level: 'error' });
const TOKEN = 'kafka-test-admin-token-0123';
const prefix = `scoring-test-${process.pid}-${Date.now()}.`;
const dir = mkdtempSync(join(tmpdir(), 'scoring-kafka-'));
const live = join(dir, 'severity-model.json');
let versionA = '';
let versionB = '';

describe('scoring service on a real broker', () => {
  const env = () => ({ KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3' });
  let client: KafkaBus;
  const scores: SeverityScoreEvent[] = [];

  beforeAll(async () => {
    versionA = (await trainTestModel(join(dir, 'a.json'), { seed: 1, name: 'model-a' })).version;
    versionB = (await trainTestModel(join(dir, 'b.json'), { seed: 2, name: 'model-b' })).version;
    await trainTestModel(join(dir, 'bad.json'), { seed: 3, featureSchemaVersion: '0.0.0-incompatible' });
    copyFileSync(join(dir, 'a.json'), live);
    client = new KafkaBus({ brokers: inject('kafkaBrokers').split(','), clientId: 'scoring-test-client', logger, topicPrefix: prefix });
    await client.connect();
    await client.ensureTopics([{ topic: TOPICS.features, partitions: 3 }, { topic: TOPICS.scores, partitions: 3 }]);
    await collectScores(client, TOPICS.scores, scores, `check-${Date.now()}`);
  }, 180_000);

  afterAll(async () => {
    await client?.close();
  });

  it('scores every vector exactly once while the model is swapped and a bad artifact is refused', async () => {
    const config = loadConfig({ ...env(), MODEL_PATH: live, MODEL_WATCH: 'false', SCORING_ADMIN_TOKEN: TOKEN });
    const bus = createBus(config, { clientId: 'scoring-service', logger });
    const service = createScoringService({ config, logger, bus });
    await service.start();
    try {
      const total = 1200;
      const vectors = Array.from({ length: total }, (_, i) => vectorEvent(`patient-${i % 150}`, syntheticFeatures(500 + i, i % 4 === 0)));
      const send = (from: number, to: number) =>
        client.produce(TOPICS.features, vectors.slice(from, to).map((v) => ({ key: v.patientId, value: JSON.stringify(v) })));

      await send(0, 400);
      await waitFor(() => scores.length >= 200, 'first scores', 120_000, 50);
      copyFileSync(join(dir, 'b.json'), live);
      const swap = await service.app.inject({ method: 'POST', url: '/model/reload', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(swap.json()).toEqual({ loaded: true, version: versionB, previous: versionA });

      await send(400, 800);
      copyFileSync(join(dir, 'bad.json'), live);
      const refused = await service.app.inject({ method: 'POST', url: '/model/reload', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(refused.statusCode).toBe(422);
      await send(800, total);

      await waitFor(() => scores.length >= total, `${total} scores`, 120_000, 50);
      await new Promise((r) => setTimeout(r, 1000)); // anything extra would be a double score
      const perVector = new Map<string, number>();
      for (const s of scores) perVector.set(s.payload.featureEventId, (perVector.get(s.payload.featureEventId) ?? 0) + 1);
      expect(scores.length).toBe(total);
      expect(perVector.size).toBe(total);
      expect(new Set(vectors.map((v) => v.eventId))).toEqual(new Set(perVector.keys()));

      const versions = scores.map((s) => s.payload.model?.version);
      expect(new Set(versions)).toEqual(new Set([versionA, versionB]));
      // Every vector sent after the refused artifact was still scored, by model B.
      const late = new Set(vectors.slice(800).map((v) => v.eventId));
      expect(scores.filter((s) => late.has(s.payload.featureEventId)).every((s) => s.payload.model?.version === versionB)).toBe(true);
      expect((await service.app.inject('/health/ready')).json().status).toBe('ready');
    } finally {
      await service.stop();
      await service.app.close();
    }
  });
});
