// Artifacts on disk: JSON, gzipped when the path ends in .gz, written atomically.
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
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

/**
 * How large an artifact may be, on disk and once decompressed: a file that is too large
 * (or a gzip bomb) is refused before it can exhaust the memory of the service loading it.
 * The defaults are far above any forest this project trains (tens of MB).
 */
export interface ArtifactLimits {
  fileBytes: number;
  jsonBytes: number;
}
export const ARTIFACT_LIMITS: ArtifactLimits = { fileBytes: 256 * 1024 * 1024, jsonBytes: 512 * 1024 * 1024 };

/** Reads and validates an artifact file (plain or gzipped JSON). Throws ArtifactError naming the path. */
export async function readModelArtifact(path: string, limits: ArtifactLimits = ARTIFACT_LIMITS): Promise<ModelArtifact> {
  return validateArtifact(await readArtifactJson(path, limits), path);
}

export async function readArtifactJson(path: string, limits: ArtifactLimits = ARTIFACT_LIMITS): Promise<unknown> {
  let bytes: Buffer;
  try {
    const { size } = await stat(path);
    if (size > limits.fileBytes) throw new ArtifactError(path, [`the file is ${size} bytes, more than the ${limits.fileBytes} an artifact may have`]);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof ArtifactError) throw err;
    throw new ArtifactError(path, [`cannot read the file: ${(err as Error).message}`], (err as NodeJS.ErrnoException).code);
  }
  if (bytes.length > limits.fileBytes) throw new ArtifactError(path, [`the file is ${bytes.length} bytes, more than the ${limits.fileBytes} an artifact may have`]);
  let text: string;
  try {
    const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
    text = (gzipped ? gunzipSync(bytes, { maxOutputLength: limits.jsonBytes }) : bytes).toString('utf8');
  } catch (err) {
    const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new ArtifactError(path, [tooLarge ? `it decompresses to more than the ${limits.jsonBytes} bytes an artifact may have` : `cannot gunzip: ${(err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ArtifactError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  return doc;
}
