// Parquet as real tools write it: polars and pyarrow write zstd by default, Spark snappy or
// gzip. The real files beside the checkout are re-written in each codec (by parquet-wasm,
// the Rust parquet writer) and must read back exactly as the original.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as parquetWasm from 'parquet-wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDS_DEMO_RELATIVE_PATH, readMeds, readPhysioNet, type MedsData } from '../src/index.js';

const meds = fileURLToPath(new URL(`../../../${MEDS_DEMO_RELATIVE_PATH}`, import.meta.url));
const physionet = fileURLToPath(new URL('../../../../shared/data/physionet-2019-sepsis/physionet2019_setB_train.parquet', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'parquet-codecs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CODECS = [
  ['zstd', parquetWasm.Compression.ZSTD],
  ['gzip', parquetWasm.Compression.GZIP],
  ['brotli', parquetWasm.Compression.BROTLI],
  ['lz4', parquetWasm.Compression.LZ4_RAW],
  ['uncompressed', parquetWasm.Compression.UNCOMPRESSED],
] as const;

function rewrite(source: string, name: string, codec: parquetWasm.Compression): string {
  const table = parquetWasm.readParquet(new Uint8Array(readFileSync(source)));
  const out = join(dir, `${name}.parquet`);
  writeFileSync(out, parquetWasm.writeParquet(table, new parquetWasm.WriterPropertiesBuilder().setCompression(codec).build()));
  return out;
}

describe.skipIf(!existsSync(meds))(existsSync(meds) ? 'MEDS in every codec (MIMIC-IV demo)' : `MEDS codecs: SKIPPED, the MIMIC-IV demo is not at ${meds}`, () => {
  let original: MedsData;
  beforeAll(async () => {
    original = await readMeds(meds);
  }, 60_000);

  it.each(CODECS)('%s reads to the same events as the snappy original', async (name, codec) => {
    const copy = await readMeds(rewrite(meds, `meds-${name}`, codec));
    expect(copy.events.length).toBe(original.events.length);
    expect(copy.events).toEqual(original.events);
  }, 120_000);
});

describe.skipIf(!existsSync(physionet))(existsSync(physionet) ? 'PhysioNet parquet in zstd' : `PhysioNet codec: SKIPPED, no data at ${physionet}`, () => {
  it('reads the same stays and values as the snappy original', async () => {
    const [original, copy] = [await readPhysioNet(physionet), await readPhysioNet(rewrite(physionet, 'physionet-zstd', parquetWasm.Compression.ZSTD))];
    expect(copy.stays.length).toBe(original.stays.length);
    expect(copy.stays.slice(0, 50)).toEqual(original.stays.slice(0, 50));
  }, 180_000);
});
