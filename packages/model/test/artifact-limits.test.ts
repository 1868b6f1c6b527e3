// Artifacts are read with size caps, on the file and on what it decompresses to, so a
// huge file or a gzip bomb at MODEL_PATH is refused instead of exhausting memory.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ArtifactError, ARTIFACT_LIMITS, loadModelArtifact, readModelArtifact } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ehr-model-limits-'));

describe('artifact size caps', () => {
  it('refuses a file larger than the cap, naming the path and both sizes', async () => {
    const path = join(dir, 'large.json');
    writeFileSync(path, JSON.stringify({ padding: 'x'.repeat(10_000) }));
    const limits = { fileBytes: 4_096, jsonBytes: 1_000_000 };
    await expect(readModelArtifact(path, limits)).rejects.toThrow(ArtifactError);
    await expect(loadModelArtifact(path, limits)).rejects.toThrow(/large\.json[\s\S]*the file is 10\d{3} bytes, more than the 4096/);
  });

  it('refuses a small gzip that decompresses past the cap (a gzip bomb), without inflating it whole', async () => {
    const path = join(dir, 'bomb.json.gz');
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)); // 64 MiB of spaces in ~64 KiB
    writeFileSync(path, bomb);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await expect(loadModelArtifact(path, { fileBytes: 1024 * 1024, jsonBytes: 1024 * 1024 })).rejects.toThrow(/decompresses to more than the 1048576 bytes/);
  });

  it('has defaults far above a real forest', () => {
    expect(ARTIFACT_LIMITS.fileBytes).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    expect(ARTIFACT_LIMITS.jsonBytes).toBeGreaterThanOrEqual(ARTIFACT_LIMITS.fileBytes);
  });
});
