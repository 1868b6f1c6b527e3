// Artifacts on disk: JSON, gzipped when the path ends in .gz, written atomically.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ModelArtifact } from './schema.js';
import { ArtifactError, validateArtifact } from './validate.js';

/** Writes the artifact as JSON (gzipped when the path ends in .gz), atomically. */
export async function saveModelArtifact(path: string, artifact: ModelArtifact): Promise<void> {
  const json = JSON.stringify(artifact, null, 1) + '\n';
  const data = path.endsWith('.gz') ? gzipSync(json) : Buffer.from(json);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Reads and validates an artifact file (plain or gzipped JSON). Throws ArtifactError naming the path. */
export async function readModelArtifact(path: string): Promise<ModelArtifact> {
  return validateArtifact(await readArtifactJson(path), path);
}

export async function readArtifactJson(path: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ArtifactError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  let text: string;
  try {
    text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (err) {
    throw new ArtifactError(path, [`cannot gunzip: ${(err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ArtifactError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  return doc;
}
