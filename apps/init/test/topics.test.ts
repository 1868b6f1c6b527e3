import { describe, expect, it } from 'vitest';
import { createPipelineTopics } from '../src/index.js';

describe('createPipelineTopics', () => {
  it('does nothing on the in-memory bus (KAFKA_BROKERS unset)', async () => {
    await expect(createPipelineTopics({ KAFKA_TOPIC_PARTITIONS: '3' })).resolves.toBeUndefined();
  });
  it('names the variable that is wrong', async () => {
    await expect(createPipelineTopics({ KAFKA_BROKERS: 'a:1', KAFKA_TOPIC_PARTITIONS: 'many' })).rejects.toThrow(/KAFKA_TOPIC_PARTITIONS/);
  });
});
