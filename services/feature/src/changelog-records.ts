// What the feature state changelog holds, record by record, and how each is checked on the
// way back. Patient states are keyed by patient id; everything else the service writes
// (input offsets, restore markers, parts of a large state) is keyed under "#", a character
// no patient id can contain (`PatientId` in @ehr/features), so no patient can ever reach
// that key space. Every record is validated when read: a bad one is skipped and counted.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { BusRecord, OutgoingRecord } from '@ehr/bus';
import { decodeState, encodeState, type PatientState } from '@ehr/features';

export const INTERNAL_PREFIX = '#';
export const OFFSET_PREFIX = '#offset/';
export const MARKER_PREFIX = '#marker/';
const PART_PREFIX = '#part/';
/** Offsets and markers as the service wrote them before internal keys moved under "#" (read, never written). */
const LEGACY_OFFSET = /^__offset\.(\d+)$/;
const LEGACY_MARKER = /^__restore_marker\.\d+\.\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** How a patient record's value is encoded (absent: plain JSON, as written before). */
export const STATE_FORMAT_HEADER = 'ehr-state-format';

/** States up to this size are written as JSON; larger ones are gzipped. */
const PLAIN_MAX_BYTES = 256 * 1024;
/** Each record stays well under the broker's 1 MB message limit. */
export const PART_MAX_BYTES = 512 * 1024;
/**
 * The largest state read back: 64 parts (32 MiB gzipped), and 64 MiB of JSON once unzipped. A
 * patient's state is bounded far below that (8,192 points a signal, 20,000 event ids); the
 * bound is for a record that claims more, which would otherwise be believed: a manifest of
 * 999,999 parts built that many key names before it noticed they were missing (the 192 MiB
 * heap ran out, on every start), and 400 KB of gzip unzipped to 400 MiB.
 */
export const MAX_STATE_PARTS = 64;
export const MAX_STATE_JSON_BYTES = 64 * 1024 * 1024;

export const offsetKey = (inputPartition: number) => `${OFFSET_PREFIX}${inputPartition}`;
const partKey = (patientId: string, version: string, index: number) => `${PART_PREFIX}${patientId}/${version}/${index}`;

export function offsetRecord(inputPartition: number, nextOffset: bigint): OutgoingRecord {
  return { key: offsetKey(inputPartition), value: JSON.stringify({ partition: inputPartition, nextOffset: String(nextOffset) }) };
}

/** Where a large state's parts are (so that a newer version can remove them). */
export interface StoredParts {
  version: string;
  count: number;
}

export interface EncodedPatient {
  /** Under the patient's key: the state, or the manifest of its parts. */
  head: OutgoingRecord;
  /** Written (and durable) before the head. */
  parts: OutgoingRecord[];
  stored: StoredParts | null;
}

interface Manifest {
  version: string;
  parts: number;
  bytes: number;
  sha256: string;
}

/** A patient's state as changelog records, each under the broker's message limit. */
export function encodePatient(patientId: string, state: PatientState, inputPartition: number): EncodedPatient {
  const json = Buffer.from(encodeState(state, { partition: inputPartition }));
  if (json.length <= PLAIN_MAX_BYTES) return { head: { key: patientId, value: json }, parts: [], stored: null };
  const zipped = gzipSync(json, { level: 1 });
  if (zipped.length <= PART_MAX_BYTES) return { head: { key: patientId, value: zipped, headers: { [STATE_FORMAT_HEADER]: 'gzip' } }, parts: [], stored: null };
  const sha256 = createHash('sha256').update(zipped).digest('hex');
  const version = sha256.slice(0, 16);
  const count = Math.ceil(zipped.length / PART_MAX_BYTES);
  const parts = Array.from({ length: count }, (_, i) => ({ key: partKey(patientId, version, i), value: zipped.subarray(i * PART_MAX_BYTES, (i + 1) * PART_MAX_BYTES) }));
  const manifest: Manifest = { version, parts: count, bytes: zipped.length, sha256 };
  return { head: { key: patientId, value: JSON.stringify(manifest), headers: { [STATE_FORMAT_HEADER]: 'parts' } }, parts, stored: { version, count } };
}

/** Tombstones for the parts of a state version that a newer head no longer points at. */
export const partTombstones = (patientId: string, stored: StoredParts): OutgoingRecord[] =>
  Array.from({ length: stored.count }, (_, i) => ({ key: partKey(patientId, stored.version, i), value: Buffer.alloc(0) }));

export type SkipKind = 'offset' | 'state' | 'part' | 'internal';

export interface ChangelogContents {
  /** Input partition → patient id → state. */
  states: Map<number, Map<string, PatientState>>;
  /** Input partition → the next input offset its states do not include. */
  offsets: Map<number, bigint>;
  /** Patients stored in parts, by id (so the next version can tombstone these). */
  stored: Map<string, StoredParts>;
  /** Part records no head points at (left by a crash between writing and tombstoning). */
  orphanParts: string[];
  /** What did not check out, where it is (never its key: that may be a patient id). */
  skipped: { kind: SkipKind; why: string; partition: number; offset: string }[];
}

const INT64_MAX = 2n ** 63n - 1n;
/** A Kafka offset as the service writes it: decimal digits within int64. */
const isDecimal = (v: unknown): v is string => typeof v === 'string' && /^\d{1,19}$/.test(v) && BigInt(v) <= INT64_MAX;
const isPartition = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 1_000_000;

function readOffset(value: Buffer): { partition: number; nextOffset: bigint } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString());
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { partition, nextOffset } = parsed as { partition?: unknown; nextOffset?: unknown };
  return isPartition(partition) && isDecimal(nextOffset) ? { partition, nextOffset: BigInt(nextOffset) } : null;
}

function readManifest(value: Buffer): Manifest | null {
  try {
    const m = JSON.parse(value.toString()) as Partial<Manifest> | null;
    if (typeof m !== 'object' || m === null) return null;
    const ok =
      typeof m.version === 'string' &&
      /^[0-9a-f]{16}$/.test(m.version) &&
      typeof m.bytes === 'number' &&
      Number.isInteger(m.bytes) &&
      m.bytes > 0 &&
      m.bytes <= MAX_STATE_PARTS * PART_MAX_BYTES &&
      // As encodePatient cuts them: anything else is not a manifest this service wrote.
      m.parts === Math.ceil(m.bytes / PART_MAX_BYTES) &&
      typeof m.sha256 === 'string';
    return ok ? (m as Manifest) : null;
  } catch {
    return null;
  }
}

/** A gzipped state, refused past MAX_STATE_JSON_BYTES (zlib stops there instead of filling memory). */
function unzipState(zipped: Buffer): Buffer {
  try {
    return gunzipSync(zipped, { maxOutputLength: MAX_STATE_JSON_BYTES });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new Error(`state unzips to more than ${MAX_STATE_JSON_BYTES} bytes`);
    throw err;
  }
}

/**
 * The latest record of every key → the states and offsets they describe. Nothing in it can
 * make this throw: whatever does not check out is listed in `skipped` (the patient starts
 * afresh, an offset is taken as unknown) and the rest is used.
 */
export function readChangelog(latest: ReadonlyMap<string, BusRecord>): ChangelogContents {
  const out: ChangelogContents = { states: new Map(), offsets: new Map(), stored: new Map(), orphanParts: [], skipped: [] };
  const legacyOffsets = new Map<number, bigint>();
  const parts = new Map<string, Buffer>();
  const heads: [string, BusRecord][] = [];
  const skip = (kind: SkipKind, record: BusRecord, why: string) => out.skipped.push({ kind, why, partition: record.partition, offset: record.offset });

  for (const [key, record] of latest) {
    if (record.value.length === 0) continue; // a tombstone: evicted, or a part no longer used
    if (key.startsWith(INTERNAL_PREFIX)) {
      if (key.startsWith(OFFSET_PREFIX)) {
        const offset = readOffset(record.value);
        if (offset && key === offsetKey(offset.partition)) out.offsets.set(offset.partition, offset.nextOffset);
        else skip('offset', record, 'not an offset record of its own partition');
      } else if (key.startsWith(PART_PREFIX)) parts.set(key, record.value);
      else if (!key.startsWith(MARKER_PREFIX)) skip('internal', record, 'unknown internal key');
      continue;
    }
    const legacy = LEGACY_OFFSET.exec(key);
    const legacyOffset = legacy ? readOffset(record.value) : null;
    if (legacyOffset && String(legacyOffset.partition) === legacy![1]) {
      legacyOffsets.set(legacyOffset.partition, legacyOffset.nextOffset);
      continue;
    }
    if (LEGACY_MARKER.test(key) && UUID.test(record.value.toString())) continue;
    heads.push([key, record]);
  }
  // Offsets written before the key space moved count only where no newer one exists.
  for (const [p, next] of legacyOffsets) if (!out.offsets.has(p)) out.offsets.set(p, next);

  const used = new Set<string>();
  for (const [patientId, record] of heads) {
    const format = record.headers[STATE_FORMAT_HEADER] ?? 'json';
    let json: Buffer;
    try {
      if (format === 'json') json = record.value;
      else if (format === 'gzip') json = unzipState(record.value);
      else if (format === 'parts') {
        const manifest = readManifest(record.value);
        if (!manifest) throw new Error('unreadable manifest');
        const keys = Array.from({ length: manifest.parts }, (_, i) => partKey(patientId, manifest.version, i));
        const missing = keys.filter((k) => !parts.has(k)).length;
        if (missing > 0) throw new Error(`${missing} of ${manifest.parts} parts missing`);
        keys.forEach((k) => used.add(k));
        const zipped = Buffer.concat(keys.map((k) => parts.get(k)!));
        if (zipped.length !== manifest.bytes || createHash('sha256').update(zipped).digest('hex') !== manifest.sha256) throw new Error('parts do not match their manifest');
        json = unzipState(zipped);
        out.stored.set(patientId, { version: manifest.version, count: manifest.parts });
      } else throw new Error(`unknown format ${JSON.stringify(format.slice(0, 40))}`);
      const { state, meta } = decodeState(json);
      if (state.patientId !== patientId) throw new Error('the state belongs to another key');
      const partition = meta.partition ?? 0;
      if (!isPartition(partition)) throw new Error('no valid input partition');
      let states = out.states.get(partition);
      if (!states) out.states.set(partition, (states = new Map<string, PatientState>()));
      states.set(patientId, state);
    } catch (err) {
      out.stored.delete(patientId);
      skip('state', record, err instanceof Error ? err.message : String(err));
    }
  }
  for (const key of parts.keys()) if (!used.has(key)) out.orphanParts.push(key);
  return out;
}
