// The files a single combined broker+controller KRaft node starts from. Settings and
// their reasons: /work/shared/docs/kafka-local-broker.md and this package's README.
import { randomBytes } from 'node:crypto';

export interface ServerPropertiesInput {
  host: string;
  port: number;
  controllerPort: number;
  logDirs: string;
  partitions: number;
  /** Extra or overriding settings, e.g. `{ 'log.retention.ms': 60000 }`. */
  overrides?: Record<string, string | number | boolean>;
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (22 characters). Never
 * starting with '-': `kafka-storage format -t -abc…` reads such an id as an option and
 * fails (1 start in 64); Kafka's own Uuid.randomUuid() draws again for the same reason.
 */
export function newClusterId(draw: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = draw().toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function serverProperties(input: ServerPropertiesInput): string {
  const { host, port, controllerPort } = input;
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@${host}:${controllerPort}`,
    listeners: `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${port}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': input.logDirs,
    'num.partitions': input.partitions,
    'auto.create.topics.enable': true,
    // One broker: replication factor 3 would leave __consumer_offsets uncreatable.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    // 50 transaction-log partitions would make the first transactional producer slow.
    'transaction.state.log.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    // The default 128 MiB is allocated at start-up; it must stay above 1 MiB.
    'log.cleaner.dedupe.buffer.size': 8_388_608,
    ...input.overrides,
  };
  const lines = Object.entries(settings).map(([key, value]) => `${key}=${escapeValue(String(value))}`);
  return `# written by @ehr/kafka-local\n${lines.join('\n')}\n`;
}

// java.util.Properties treats backslashes as escapes (Windows paths) and ':'/'=' are fine in values.
function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\');
}

/** reload4j config: everything to stdout, which the broker's spawner points at the log file. */
export function log4jProperties(level: 'INFO' | 'WARN' = 'INFO'): string {
  return [
    `log4j.rootLogger=${level}, stdout`,
    'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
    // The chattiest loggers: per-request and per-partition state changes.
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.state.change.logger=WARN',
    'log4j.logger.kafka.log.LogCleaner=WARN',
    'log4j.logger.org.apache.kafka.storage.internals.log=WARN',
    '',
  ].join('\n');
}
