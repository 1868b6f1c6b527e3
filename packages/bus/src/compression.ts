// Kafka record-batch compression. kafkajs ships gzip only; LZ4 comes from lz4-napi (lz4_flex,
// prebuilt N-API binaries as optional dependencies: no native build on install). The codec is
// registered whenever this module loads, so every consumer in the process can read LZ4 batches
// whatever its own producer uses; KAFKA_COMPRESSION chooses what this process writes.
import kafkajs, { type CompressionTypes as Compression } from 'kafkajs';
import { compressFrame, decompressFrame } from 'lz4-napi';

// kafkajs is CommonJS and Node's ESM loader does not see these two as named exports.
const { CompressionCodecs, CompressionTypes } = kafkajs;

export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'lz4'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

/** The kafkajs codec contract: the encoder's bytes in, a Buffer out (both ways). */
const lz4Codec = () => ({
  compress: async (encoder: { buffer: Buffer }): Promise<Buffer> => compressFrame(encoder.buffer),
  decompress: async (buffer: Buffer): Promise<Buffer> => decompressFrame(buffer),
});

/** Lets a kafkajs client outside the bus (a test's observer) read LZ4 batches; idempotent. */
export function registerKafkaCodecs(): void {
  CompressionCodecs[CompressionTypes.LZ4] = lz4Codec;
}
registerKafkaCodecs();

export function compressionType(compression: KafkaCompression): Compression {
  if (compression === 'lz4') return CompressionTypes.LZ4;
  if (compression === 'gzip') return CompressionTypes.GZIP;
  return CompressionTypes.None;
}
