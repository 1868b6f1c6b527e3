// The value layouts the wire format was chosen from (see README "Wire format"). Each packs
// a catalogue-ordered vector (NaN = missing) and unpacks it again; only the chosen one
// lives in src/wire/, these stay to re-run the comparison.
import { decode as msgpackDecode, encode as msgpackEncode } from '@msgpack/msgpack';

export interface Layout {
  name: string;
  pack(values: Float64Array): Uint8Array;
  unpack(bytes: Uint8Array, count: number): Float64Array;
}

const bitmapBytes = (n: number) => (n + 7) >> 3;

/** Every slot as a float64, plus a present bitmap. */
export const f64Full: Layout = {
  name: 'binary f64, every slot + bitmap',
  pack(values) {
    const n = values.length;
    const out = new Uint8Array(bitmapBytes(n) + n * 8);
    const view = new DataView(out.buffer);
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (Number.isFinite(v)) out[i >> 3]! |= 1 << (i & 7);
      view.setFloat64(bitmapBytes(n) + i * 8, Number.isFinite(v) ? v : 0, true);
    }
    return out;
  },
  unpack(bytes, n) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = (bytes[i >> 3]! >> (i & 7)) & 1 ? view.getFloat64(bitmapBytes(n) + i * 8, true) : NaN;
    return values;
  },
};

/** Only present values as float64, after the bitmap. */
export const f64Present: Layout = {
  name: 'binary f64, present only + bitmap',
  pack(values) {
    const n = values.length;
    let present = 0;
    for (const v of values) if (Number.isFinite(v)) present++;
    const out = new Uint8Array(bitmapBytes(n) + present * 8);
    const view = new DataView(out.buffer);
    let at = bitmapBytes(n);
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      out[i >> 3]! |= 1 << (i & 7);
      view.setFloat64(at, v, true);
      at += 8;
    }
    return out;
  },
  unpack(bytes, n) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = new Float64Array(n);
    let at = bitmapBytes(n);
    for (let i = 0; i < n; i++) {
      if ((bytes[i >> 3]! >> (i & 7)) & 1) {
        values[i] = view.getFloat64(at, true);
        at += 8;
      } else values[i] = NaN;
    }
    return values;
  },
};

/** Float32 where it is exact, else float64: lossless, but a tag per value. */
export const f32OrF64: Layout = {
  name: 'binary f32-if-exact / f64, 2-bit tags',
  pack(values) {
    const n = values.length;
    const tags = new Uint8Array((n + 3) >> 2);
    const body = new DataView(new ArrayBuffer(n * 8));
    let at = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      if (Math.fround(v) === v) {
        tags[i >> 2]! |= 1 << ((i & 3) * 2);
        body.setFloat32(at, v, true);
        at += 4;
      } else {
        tags[i >> 2]! |= 2 << ((i & 3) * 2);
        body.setFloat64(at, v, true);
        at += 8;
      }
    }
    const out = new Uint8Array(tags.length + at);
    out.set(tags);
    out.set(new Uint8Array(body.buffer, 0, at), tags.length);
    return out;
  },
  unpack(bytes, n) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = new Float64Array(n);
    let at = (n + 3) >> 2;
    for (let i = 0; i < n; i++) {
      const tag = (bytes[i >> 2]! >> ((i & 3) * 2)) & 3;
      if (tag === 1) {
        values[i] = view.getFloat32(at, true);
        at += 4;
      } else if (tag === 2) {
        values[i] = view.getFloat64(at, true);
        at += 8;
      } else values[i] = NaN;
    }
    return values;
  },
};

/** MessagePack of an array (null for missing): integers compact, floats as float64. */
export const msgpackArray: Layout = {
  name: 'MessagePack array (@msgpack/msgpack)',
  pack(values) {
    return msgpackEncode(Array.from(values, (v) => (Number.isFinite(v) ? v : null)));
  },
  unpack(bytes) {
    return Float64Array.from(msgpackDecode(bytes) as (number | null)[], (v) => v ?? NaN);
  },
};

/** JSON array text (null for missing). */
export const jsonArray: Layout = {
  name: 'JSON array',
  pack(values) {
    let s = '[';
    for (let i = 0; i < values.length; i++) s += (i ? ',' : '') + (Number.isFinite(values[i]) ? String(values[i]) : 'null');
    return new TextEncoder().encode(`${s}]`);
  },
  unpack(bytes) {
    return Float64Array.from(JSON.parse(new TextDecoder().decode(bytes)) as (number | null)[], (v) => v ?? NaN);
  },
};
