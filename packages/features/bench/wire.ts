// npm run bench:wire -w packages/features: bytes per message and encode+decode µs for the
// vector and score on the wire, today's JSON with names against the candidates (JSON arrays,
// MessagePack, binary layouts behind a JSON header), then the codec the pipeline uses, with
// full validation. Writes bench-results/wire.json. Why the winner won: README "Wire format".
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { encode as msgpackEncode, decode as msgpackDecode } from '@msgpack/msgpack';
import {
  decodeFeatureVector,
  decodeSeverityScore,
  encodeFeatureVectorDraft,
  encodeSeverityScore,
  FEATURE_NAMES,
  type FeatureVectorEvent,
  serializeFeatureVector,
  type SeverityScoreEvent,
  toFeatureValues,
  toFeatureVectorEvent,
} from '../src/index.js';
import { ByteReader, ByteWriter } from '../src/wire/bytes.js';
import { packValues, unpackValues } from '../src/wire/values.js';
import { f32OrF64, f64Full, f64Present, jsonArray, msgpackArray, type Layout } from './candidates.js';
import { benchScore } from '../src/testing.js';
import { wardDrafts } from './vectors.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const when = new Date('2025-01-03T00:00:00Z');
const drafts = wardDrafts(60, 48);
const vectors = drafts.map((d) => toFeatureVectorEvent(d, when));

/** A score as scoring writes it, with five real contributions and a band reason. */
const scoreOf = (v: FeatureVectorEvent, i: number): SeverityScoreEvent => benchScore(v, i, v.eventId.replace(/^.{8}/, 'aaaaaaaa'), when);
const scores = vectors.map(scoreOf);

interface Codec {
  name: string;
  encode(event: FeatureVectorEvent | SeverityScoreEvent): Uint8Array | string;
  decode(bytes: Uint8Array | string): unknown;
}

const withArray = (e: FeatureVectorEvent | SeverityScoreEvent) => ({ ...e, payload: { ...e.payload, features: FEATURE_NAMES.map((n) => e.payload.features[n] ?? null) } });
const fromArray = (o: { payload: { features: (number | null)[] } }) => ({ ...o, payload: { ...o.payload, features: toFeatureValues(Float64Array.from(o.payload.features, (v) => v ?? NaN)) } });
const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Header JSON (no features) + a value layout: the frame shape with another layout inside. */
function framed(layout: Layout): Codec {
  return {
    name: `JSON header + ${layout.name}`,
    encode(e) {
      const header = utf8.encode(JSON.stringify({ ...e, payload: { ...e.payload, features: undefined } }));
      const values = layout.pack(Float64Array.from(FEATURE_NAMES, (n) => e.payload.features[n] ?? NaN));
      const b = new Uint8Array(4 + header.length + values.length);
      new DataView(b.buffer).setUint32(0, header.length, true);
      b.set(header, 4);
      b.set(values, 4 + header.length);
      return b;
    },
    decode(b) {
      const bytes = b as Uint8Array;
      const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
      const o = JSON.parse(text.decode(bytes.subarray(4, 4 + length))) as { payload: Record<string, unknown> };
      o.payload.features = toFeatureValues(layout.unpack(bytes.subarray(4 + length), FEATURE_NAMES.length));
      return o;
    },
  };
}

/** The layout the frames use (src/wire/values.ts). */
const tagged: Layout = {
  name: 'binary tagged: int varint / decimal varint / f64 (chosen)',
  pack(values) {
    const w = new ByteWriter();
    packValues(w, values);
    return w.finish();
  },
  unpack: (bytes) => unpackValues(new ByteReader(bytes)),
};
const layouts = [jsonArray, msgpackArray, f64Full, f64Present, f32OrF64, tagged];

const candidates: Codec[] = [
  { name: 'JSON with names (before)', encode: (e) => JSON.stringify(e), decode: (b) => JSON.parse(typeof b === 'string' ? b : text.decode(b)) },
  { name: 'JSON, features as an array', encode: (e) => JSON.stringify(withArray(e)), decode: (b) => fromArray(JSON.parse(b as string) as never) },
  { name: 'MessagePack, features as an array', encode: (e) => msgpackEncode(withArray(e)), decode: (b) => fromArray(msgpackDecode(b as Uint8Array) as never) },
  framed(jsonArray),
  framed(msgpackArray),
  framed(f64Full),
  framed(f64Present),
  framed(f32OrF64),
  framed(tagged),
];

function measure(encode: (i: number) => Uint8Array | string, decode: (b: Uint8Array | string) => unknown, n: number) {
  let bytes = 0;
  for (let i = 0; i < Math.min(n, 500); i++) decode(encode(i)); // warm up
  const rounds = 3;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) {
      const b = encode(i);
      bytes += typeof b === 'string' ? Buffer.byteLength(b) : b.length;
      decode(b);
    }
  }
  return { bytes: Math.round(bytes / rounds / n), micros: Number((((performance.now() - t0) * 1000) / rounds / n).toFixed(1)) };
}

const load = loadavg().map((x) => x.toFixed(2)).join(' ');
out(`wire bench: ${vectors.length} vectors of ${FEATURE_NAMES.length} features from a seeded ward; load average ${load}`);
const results: Record<string, unknown> = { node: process.version, loadAverage: loadavg(), messages: vectors.length, features: FEATURE_NAMES.length, layouts: {}, candidates: {} };
let present = 0;
let integers = 0;
for (const d of drafts) {
  for (const v of d.values) {
    if (!Number.isFinite(v)) continue;
    present++;
    if (Number.isInteger(v)) integers++;
  }
}
out(`present values per vector ${(present / drafts.length).toFixed(1)} of ${FEATURE_NAMES.length}, of which integers ${(integers / drafts.length).toFixed(1)}`);
out(`${'values alone (pack + unpack)'.padEnd(58)} ${'bytes'.padStart(9)} ${'µs'.padStart(6)}`);
for (const l of layouts) {
  const m = measure((i) => l.pack(drafts[i]!.values), (b) => l.unpack(b as Uint8Array, FEATURE_NAMES.length), drafts.length);
  (results.layouts as Record<string, unknown>)[l.name] = m;
  out(`${l.name.padEnd(58)} ${String(m.bytes).padStart(9)} ${String(m.micros).padStart(6)}`);
}
out(`${'whole message (encode + decode, no validation)'.padEnd(58)} ${'vector B'.padStart(9)} ${'µs'.padStart(6)} ${'score B'.padStart(9)} ${'µs'.padStart(6)}`);
for (const c of candidates) {
  const v = measure((i) => c.encode(vectors[i]!), (b) => c.decode(b), vectors.length);
  const s = measure((i) => c.encode(scores[i]!), (b) => c.decode(b), scores.length);
  (results.candidates as Record<string, unknown>)[c.name] = { vector: v, score: s };
  out(`${c.name.padEnd(58)} ${String(v.bytes).padStart(9)} ${String(v.micros).padStart(6)} ${String(s.bytes).padStart(9)} ${String(s.micros).padStart(6)}`);
}

// What the pipeline runs: the feature service encodes from the draft, consumers decode with validation.
const before = {
  vector: measure((i) => serializeFeatureVector(drafts[i]!, when), decodeFeatureVector, drafts.length),
  score: measure((i) => JSON.stringify(scores[i]), decodeSeverityScore, scores.length),
};
const after = {
  vector: measure((i) => encodeFeatureVectorDraft(drafts[i]!, when), decodeFeatureVector, drafts.length),
  score: measure((i) => encodeSeverityScore(scores[i]!), decodeSeverityScore, scores.length),
};
results.pipeline = { before, after };
out(`pipeline codec with validation, before → after: vector ${before.vector.bytes} → ${after.vector.bytes} B, ${before.vector.micros} → ${after.vector.micros} µs; ` +
  `score ${before.score.bytes} → ${after.score.bytes} B, ${before.score.micros} → ${after.score.micros} µs`);
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/wire.json', `${JSON.stringify(results, null, 2)}\n`);
