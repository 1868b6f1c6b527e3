import { describe, expect, it } from 'vitest';
import { log4jProperties, newClusterId, serverProperties } from '../src/properties.js';

const parse = (text: string) =>
  Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );

describe('serverProperties', () => {
  const base = { host: '127.0.0.1', port: 19092, controllerPort: 19093, logDirs: '/tmp/k/kraft', partitions: 3 };

  it('describes one combined broker+controller on the given ports', () => {
    const props = parse(serverProperties(base));
    expect(props['process.roles']).toBe('broker,controller');
    expect(props['controller.quorum.voters']).toBe('1@127.0.0.1:19093');
    expect(props.listeners).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(props['advertised.listeners']).toBe('PLAINTEXT://127.0.0.1:19092');
    expect(props['log.dirs']).toBe('/tmp/k/kraft');
  });

  it('carries the single-node settings without which consumers or start-up fail', () => {
    const props = parse(serverProperties(base));
    expect(props).toMatchObject({
      'num.partitions': '3',
      'auto.create.topics.enable': 'true',
      'offsets.topic.replication.factor': '1',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'group.initial.rebalance.delay.ms': '0',
      'log.cleaner.dedupe.buffer.size': '8388608',
    });
  });

  it('lets overrides win and escapes backslashes', () => {
    const props = parse(
      serverProperties({ ...base, partitions: 6, logDirs: 'C:\\k', overrides: { 'num.partitions': 1, 'log.retention.ms': 60_000 } }),
    );
    expect(props['num.partitions']).toBe('1');
    expect(props['log.retention.ms']).toBe('60000');
    expect(props['log.dirs']).toBe('C:\\\\k');
  });
});

describe('newClusterId', () => {
  it('is 16 random bytes in base64url: 22 characters, new each time', () => {
    const ids = Array.from({ length: 50 }, newClusterId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("never starts with '-' (kafka-storage format would take it for an option)", () => {
    // 0xf8 encodes as '-' in base64url: the first draw is refused, the second kept.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x41)];
    expect(newClusterId(() => draws.shift()!)).toBe(Buffer.alloc(16, 0x41).toString('base64url'));
    expect(draws).toHaveLength(0);
  });
});

describe('log4jProperties', () => {
  it('sends everything to stdout, which the spawner points at the log file', () => {
    expect(log4jProperties()).toContain('log4j.rootLogger=INFO, stdout');
    expect(log4jProperties('WARN')).toContain('log4j.rootLogger=WARN, stdout');
  });
});
