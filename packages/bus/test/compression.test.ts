import { Value } from '@sinclair/typebox/value';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { BusEnv, compressionType } from '../src/index.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;

describe('Kafka compression', () => {
  it('registers an LZ4 codec with kafkajs that writes standard LZ4 frames and reads them back', async () => {
    // kafkajs has no LZ4 of its own: without the registration this factory throws "not implemented".
    const codec = (CompressionCodecs[CompressionTypes.LZ4] as () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> })();
    const input = Buffer.from('{"schema":"feature_vector","patientId":"p1"}'.repeat(200));
    const compressed = await codec.compress({ buffer: input });
    expect([...compressed.subarray(0, 4)]).toEqual([0x04, 0x22, 0x4d, 0x18]); // the LZ4 frame magic Kafka expects
    expect(compressed.length).toBeLessThan(input.length / 10);
    expect(await codec.decompress(compressed)).toEqual(input);
  });

  it('KAFKA_COMPRESSION picks the codec, defaults to lz4 and refuses others', () => {
    const env = (extra: Record<string, string>) => Value.Convert(BusEnv, Value.Default(BusEnv, { ...extra }));
    expect(compressionType((env({}) as BusEnv).KAFKA_COMPRESSION)).toBe(CompressionTypes.LZ4);
    expect(compressionType((env({ KAFKA_COMPRESSION: 'none' }) as BusEnv).KAFKA_COMPRESSION)).toBe(CompressionTypes.None);
    expect(compressionType('gzip')).toBe(CompressionTypes.GZIP);
    expect(Value.Check(BusEnv, env({ KAFKA_COMPRESSION: 'zstd' }))).toBe(false);
  });
});
