// The frame every compact message uses:
//   "EHR" + kind ('V' feature vector, 'S' severity score)   4 bytes: a kcat dump shows what it is
//   wire version (1)                                         1 byte
//   header length H, u32 little-endian                       4 bytes
//   header: the envelope and payload as JSON, minus the values (readable in a kcat dump)
//   values: packValues (catalogue version, count, tags, numbers)
// and nothing after. A message whose first byte is '{' is the JSON of before (still decoded).
import { ByteReader, ByteWriter, WireError } from './bytes.js';
import { packValues, unpackValues } from './values.js';

export const WIRE_VERSION = 1;
export type FrameKind = 'V' | 'S';
const MAGIC = [0x45, 0x48, 0x52]; // "EHR"
const PREAMBLE = 9;
/** A header is envelope, ids, band reason and at most 50 top features: far below this. */
export const MAX_HEADER_BYTES = 64 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });
/**
 * One writer for every frame (encoding is synchronous), each frame copied out at its exact
 * size: a fresh writer per frame allocated about twice the frame (header × 3 for UTF-8)
 * as a new ArrayBuffer, once per event in the feature service.
 */
const scratch = new ByteWriter(16 * 1024);

/**
 * A frame of `kind`: the header, then `values` packed, or (`Uint8Array`) values already packed
 * by packValues (a score reusing its vector's bytes: the same numbers, not packed again).
 */
export function encodeFrame(kind: FrameKind, header: string, values: ArrayLike<number> | Uint8Array): Buffer {
  const w = scratch;
  w.length = 0; // a frame whose encoding threw may have left bytes behind
  for (const b of MAGIC) w.u8(b);
  w.u8(kind.charCodeAt(0));
  w.u8(WIRE_VERSION);
  const lengthAt = w.length;
  w.u32(0);
  const start = w.length;
  w.utf8(header);
  w.setU32At(lengthAt, w.length - start);
  if (values instanceof Uint8Array) w.bytes(values);
  else packValues(w, values);
  return w.take();
}

/** Does this message start with the frame's magic (else it is JSON, or garbage)? */
export function isFrame(bytes: Uint8Array | string): bytes is Uint8Array {
  return typeof bytes !== 'string' && bytes.length >= 3 && bytes[0] === MAGIC[0] && bytes[1] === MAGIC[1] && bytes[2] === MAGIC[2];
}

export interface Frame {
  kind: FrameKind;
  header: unknown;
  values: Float64Array;
  /** The values as packed on the wire (a copy: it must not hold the record's buffer). */
  packed: Uint8Array;
}

/** Reads a frame of `kind`, or throws a WireError naming the fault and its reason. */
export function decodeFrame(bytes: Uint8Array, kind: FrameKind): Frame {
  const r = new ByteReader(bytes);
  r.need(PREAMBLE, 'frame preamble');
  r.at = 3;
  const got = String.fromCharCode(r.u8('kind'));
  if (got !== kind) throw new WireError('schema_invalid', `frame kind ${JSON.stringify(got)}, expected ${JSON.stringify(kind)} (${kind === 'V' ? 'a feature vector' : 'a severity score'})`, 'kind');
  const version = r.u8('wire version');
  if (version !== WIRE_VERSION) throw new WireError('unsupported_schema_version', `wire version ${version} is not supported (supported: ${WIRE_VERSION})`, 'wireVersion');
  const headerLength = r.u32('header length');
  if (headerLength > MAX_HEADER_BYTES) throw new WireError('too_large', `header of ${headerLength} bytes is over the ${MAX_HEADER_BYTES}-byte limit`);
  const text = r.bytes(headerLength, 'header');
  let header: unknown;
  try {
    header = JSON.parse(utf8.decode(text));
  } catch (err) {
    throw new WireError('unparseable', `header is not UTF-8 JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const packedAt = r.at;
  const values = unpackValues(r);
  if (r.remaining > 0) throw new WireError('unparseable', `${r.remaining} byte(s) after the end of the frame at offset ${r.at}`);
  return { kind, header, values, packed: Uint8Array.prototype.slice.call(bytes, packedAt, r.at) };
}

/** The JSON part of a message (the header of a frame, or the whole JSON), for reading ids out of a rejected one. */
export function jsonPartOf(bytes: Uint8Array): Uint8Array {
  if (!isFrame(bytes) || bytes.length < PREAMBLE) return bytes;
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(5, true);
  return bytes.subarray(PREAMBLE, Math.min(bytes.length, PREAMBLE + length));
}
