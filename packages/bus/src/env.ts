import { readFileSync } from 'node:fs';
import { ConfigError, type Logger } from '@ehr/runtime';
import { Type, type Static } from '@sinclair/typebox';
import { KAFKA_COMPRESSIONS } from './compression.js';
import { KafkaBus } from './kafka-bus.js';
import { MemoryBus, type MemoryBroker } from './memory-bus.js';
import type { Bus } from './types.js';

/** The bus variables every service reads. Unset `KAFKA_BROKERS` means the in-memory bus. */
export const BusEnv = Type.Object({
  KAFKA_BROKERS: Type.Optional(Type.String({ pattern: '^[^,\\s]+(,[^,\\s]+)*$', description: 'comma-separated bootstrap servers (host:port); unset = in-memory bus' })),
  KAFKA_TOPIC_PREFIX: Type.Optional(
    Type.String({ pattern: '^[A-Za-z0-9._-]+$', description: 'prefix on every topic name on the wire (share a cluster between pipelines or test runs)' }),
  ),
  KAFKA_COMPRESSION: Type.Union(
    KAFKA_COMPRESSIONS.map((c) => Type.Literal(c)),
    // lz4 by default: measured faster end to end than none, at a fifth of the bytes (bus README).
    { default: 'lz4', description: 'compression of the record batches this service writes: lz4, none or gzip (every service reads all three)' },
  ),
  KAFKA_CLIENT_ID: Type.Optional(Type.String({ minLength: 1, description: 'Kafka client id (default: the service name)' })),
  KAFKA_TOPIC_PARTITIONS: Type.Integer({ minimum: 1, default: 6, description: 'partitions of topics the service creates' }),
  KAFKA_REPLICATION_FACTOR: Type.Integer({ minimum: 1, default: 1, description: 'replication factor of topics the service creates' }),
  KAFKA_SSL: Type.Boolean({ default: false, description: 'connect with TLS' }),
  KAFKA_SSL_CA_FILE: Type.Optional(Type.String({ description: 'PEM file of the CA that signed the brokers' })),
  KAFKA_SSL_CERT_FILE: Type.Optional(Type.String({ description: 'client certificate (PEM) for mutual TLS' })),
  KAFKA_SSL_KEY_FILE: Type.Optional(Type.String({ description: 'client key (PEM) for mutual TLS' })),
  KAFKA_SSL_REJECT_UNAUTHORIZED: Type.Boolean({ default: true, description: 'verify broker certificates' }),
  KAFKA_SASL_MECHANISM: Type.Optional(
    Type.Union([Type.Literal('plain'), Type.Literal('scram-sha-256'), Type.Literal('scram-sha-512')], { description: 'SASL mechanism' }),
  ),
  KAFKA_SASL_USERNAME: Type.Optional(Type.String({ description: 'SASL user name (with KAFKA_SASL_MECHANISM)' })),
  KAFKA_SASL_PASSWORD: Type.Optional(Type.String({ description: 'SASL password (with KAFKA_SASL_MECHANISM); never logged' })),
});
export type BusEnv = Static<typeof BusEnv>;

/** What every consuming service reads about isolating poison records and reporting stalls. */
export const ConsumerEnv = Type.Object({
  CONSUMER_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 3,
    description: 'deliveries a record that throws gets before it is dead-lettered as processing_error and its partition moves on',
  }),
  CONSUMER_STALL_SECONDS: Type.Number({
    minimum: 1,
    default: 60,
    description: 'a partition with a batch pending this long makes readiness degraded, naming it',
  }),
});
export type ConsumerEnv = Static<typeof ConsumerEnv>;

export interface BusWiring {
  /** Names the client (and the consumer groups' owner) in broker logs. */
  clientId: string;
  logger: Logger;
  /** For the in-memory bus: share one broker between services in one process. */
  memoryBroker?: MemoryBroker;
}

function tlsOptions(env: BusEnv) {
  if (!env.KAFKA_SSL) return undefined;
  const read = (file: string | undefined, variable: string) => {
    if (!file) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`${variable}: cannot read ${file}: ${(err as Error).message}`, [{ variable, message: 'unreadable file' }]);
    }
  };
  const ca = read(env.KAFKA_SSL_CA_FILE, 'KAFKA_SSL_CA_FILE');
  const cert = read(env.KAFKA_SSL_CERT_FILE, 'KAFKA_SSL_CERT_FILE');
  const key = read(env.KAFKA_SSL_KEY_FILE, 'KAFKA_SSL_KEY_FILE');
  return { rejectUnauthorized: env.KAFKA_SSL_REJECT_UNAUTHORIZED, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

function saslOptions(env: BusEnv) {
  if (!env.KAFKA_SASL_MECHANISM) return undefined;
  const missing = (['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const).filter((v) => !env[v]);
  if (missing.length > 0) {
    throw new ConfigError(
      `KAFKA_SASL_MECHANISM=${env.KAFKA_SASL_MECHANISM} needs ${missing.join(' and ')}`,
      missing.map((variable) => ({ variable, message: 'is required with KAFKA_SASL_MECHANISM' })),
    );
  }
  return { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME!, password: env.KAFKA_SASL_PASSWORD! };
}

/** Kafka when `KAFKA_BROKERS` is set, else the in-memory bus. */
export function createBus(env: BusEnv, wiring: BusWiring): Bus {
  if (!env.KAFKA_BROKERS) {
    return new MemoryBus({
      defaultPartitions: env.KAFKA_TOPIC_PARTITIONS,
      logger: wiring.logger,
      ...(wiring.memoryBroker ? { broker: wiring.memoryBroker } : {}),
    });
  }
  const ssl = tlsOptions(env);
  const sasl = saslOptions(env);
  return new KafkaBus({
    brokers: env.KAFKA_BROKERS.split(','),
    clientId: env.KAFKA_CLIENT_ID ?? wiring.clientId,
    logger: wiring.logger,
    defaultPartitions: env.KAFKA_TOPIC_PARTITIONS,
    replicationFactor: env.KAFKA_REPLICATION_FACTOR,
    compression: env.KAFKA_COMPRESSION,
    ...(env.KAFKA_TOPIC_PREFIX ? { topicPrefix: env.KAFKA_TOPIC_PREFIX } : {}),
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
  });
}
