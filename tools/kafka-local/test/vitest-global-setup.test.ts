import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TestProject } from 'vitest/node';
import setup from '../src/vitest-global-setup.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

const fakeProject = () => {
  const provide = vi.fn();
  return { project: { provide } as unknown as TestProject, provide };
};

describe('vitest global setup', () => {
  it('uses KAFKA_BROKERS when set, providing it to tests and starting nothing', async () => {
    process.env.KAFKA_BROKERS = '10.0.0.5:9092';
    const { project, provide } = fakeProject();
    const teardown = await setup(project);
    expect(provide).toHaveBeenCalledWith('kafkaBrokers', '10.0.0.5:9092');
    expect(process.env.KAFKA_BROKERS).toBe('10.0.0.5:9092');
    await teardown();
  });

  it('fails loudly, saying what to set or install, when it cannot start a broker', async () => {
    delete process.env.KAFKA_BROKERS;
    process.env.JAVA_HOME = '/nonexistent-jdk';
    const { project, provide } = fakeProject();
    await expect(setup(project)).rejects.toThrow(/set KAFKA_BROKERS=host:port, or install Java 17\+ and Maven/);
    expect(provide).not.toHaveBeenCalled();
  });
});
