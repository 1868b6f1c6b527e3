// How an artifact is sealed and its forest stored.
//
// Content hash: sha256 over the canonical JSON (object keys sorted, no whitespace) of the
// artifact WITHOUT `createdAt`, `version` and `contentHash`; `version` is its first 12 hex
// digits. So the same seed and the same data give the same hash, whenever and wherever
// (and with any number of worker threads) it was trained.
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import type { FlatForest } from '../forest.js';
import { MISSING_SENTINEL } from '../missing.js';
import { VERSION_LENGTH, type ArtifactContent, type EncodedForest, type ModelArtifact } from './schema.js';

/** JSON with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      // No prototype: a "__proto__" member is hashed as the member it is, not taken as one.
      const sorted = Object.create(null) as Record<string, unknown>;
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

export function contentHashOf(content: ArtifactContent | ModelArtifact): string {
  const { createdAt: _c, version: _v, contentHash: _h, ...rest } = content as ModelArtifact;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/**
 * sha256 (hex) of the training data: the ASCII tag "ehr-model-data-v1", rows and columns
 * as uint32 LE, the values column by column as float64 LE (missing = MISSING_SENTINEL),
 * then the labels as one byte each.
 */
export function dataFingerprint(columns: Float64Array, rows: number, cols: number, labels: ArrayLike<number>): string {
  const h = createHash('sha256');
  h.update('ehr-model-data-v1');
  const dims = Buffer.alloc(8);
  dims.writeUInt32LE(rows, 0);
  dims.writeUInt32LE(cols, 4);
  h.update(dims);
  h.update(Buffer.from(columns.buffer, columns.byteOffset, columns.byteLength));
  const y = Buffer.alloc(labels.length);
  for (let i = 0; i < labels.length; i++) y[i] = labels[i]!;
  h.update(y);
  return h.digest('hex');
}

/** createdAt: SOURCE_DATE_EPOCH (seconds) when set, else now. */
export function artifactTimestamp(env: NodeJS.ProcessEnv = process.env): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '') {
    const s = Number(epoch);
    if (!Number.isInteger(s) || s < 0) throw new RangeError(`SOURCE_DATE_EPOCH must be whole seconds, got '${epoch}'`);
    return new Date(s * 1000).toISOString();
  }
  return new Date().toISOString();
}

/** Completes the content with hash, version and createdAt. */
export function sealArtifact(content: ArtifactContent, createdAt: string = artifactTimestamp()): ModelArtifact {
  const contentHash = contentHashOf(content);
  return { ...content, createdAt, version: contentHash.slice(0, VERSION_LENGTH), contentHash };
}

function assertLittleEndian(): void {
  if (endianness() !== 'LE') throw new Error('model artifacts store little-endian arrays; this host is big-endian');
}

function b64(a: Int32Array | Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function fromB64<T extends Int32Array | Float64Array>(s: string, ctor: { new (buf: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, what: string): T {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.byteLength % ctor.BYTES_PER_ELEMENT !== 0) throw new Error(`${what}: ${bytes.byteLength} bytes is not a whole number of ${ctor.BYTES_PER_ELEMENT}-byte values`);
  const buf = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buf).set(bytes);
  return new ctor(buf);
}

export function encodeForest(f: FlatForest): EncodedForest {
  assertLittleEndian();
  return {
    encoding: 'base64-le',
    nTrees: f.nTrees,
    nFeatures: f.nFeatures,
    nNodes: f.feature.length,
    roots: b64(f.roots),
    feature: b64(f.feature),
    threshold: b64(f.threshold),
    left: b64(f.left),
    right: b64(f.right),
    value: b64(f.value),
    samples: b64(f.samples),
  };
}

/** Decodes and checks the forest's structure; throws an Error naming the problem. */
export function decodeForest(e: EncodedForest, where = 'forest'): FlatForest {
  assertLittleEndian();
  const f: FlatForest = {
    nTrees: e.nTrees,
    nFeatures: e.nFeatures,
    roots: fromB64(e.roots, Int32Array, `${where}.roots`),
    feature: fromB64(e.feature, Int32Array, `${where}.feature`),
    threshold: fromB64(e.threshold, Float64Array, `${where}.threshold`),
    left: fromB64(e.left, Int32Array, `${where}.left`),
    right: fromB64(e.right, Int32Array, `${where}.right`),
    value: fromB64(e.value, Float64Array, `${where}.value`),
    samples: fromB64(e.samples, Int32Array, `${where}.samples`),
  };
  const n = e.nNodes;
  if (f.roots.length !== f.nTrees) throw new Error(`${where}.roots: ${f.roots.length} roots for nTrees ${f.nTrees}`);
  for (const k of ['feature', 'threshold', 'left', 'right', 'value', 'samples'] as const) {
    if (f[k].length !== n) throw new Error(`${where}.${k}: ${f[k].length} values for nNodes ${n}`);
  }
  for (let t = 0; t < f.nTrees; t++) {
    const r = f.roots[t]!;
    const next = t + 1 < f.nTrees ? f.roots[t + 1]! : n;
    if (r < 0 || r >= n || (t > 0 && r <= f.roots[t - 1]!) || next > n) throw new Error(`${where}.roots[${t}] = ${r} is out of order or out of range`);
  }
  for (let i = 0; i < n; i++) {
    const v = f.value[i]!;
    if (!(v >= 0 && v <= 1)) throw new Error(`${where}.value[${i}] = ${v} is not a probability`);
    const feat = f.feature[i]!;
    if (feat === -1) continue;
    if (feat < 0 || feat >= f.nFeatures) throw new Error(`${where}.feature[${i}] = ${feat} is not a feature index (0..${f.nFeatures - 1}) or -1`);
    const th = f.threshold[i]!;
    if (!Number.isFinite(th) || th <= MISSING_SENTINEL) throw new Error(`${where}.threshold[${i}] = ${th} must be a finite value above the missing sentinel`);
    // Children after their parent keeps every path finite (no cycles).
    for (const side of ['left', 'right'] as const) {
      const c = f[side][i]!;
      if (c <= i || c >= n) throw new Error(`${where}.${side}[${i}] = ${c}: a child must come after its parent and inside the forest`);
    }
  }
  return f;
}
