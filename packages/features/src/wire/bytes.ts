// Byte-level reading and writing for the wire frames: a growing writer and a bounds-checked
// reader whose every failure is a WireError naming what was wrong and where, so that a
// consumer dead-letters hostile or damaged input instead of throwing on it.
import type { DeadLetterReason } from '../schemas/dead-letter.js';

export class WireError extends Error {
  constructor(
    readonly reason: DeadLetterReason,
    message: string,
    readonly path = '$',
  ) {
    super(message);
  }
}

const utf8Encoder = new TextEncoder();

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(capacity = 1024) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v;
  }

  u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  /** Unsigned LEB128 of a non-negative safe integer (arithmetic, not bit operators: past 2^32). */
  varint(v: number): void {
    this.reserve(8);
    if (v < 0x80000000) {
      // Below 2^31 bit operators are exact and several times cheaper (most values of a vector).
      while (v >= 0x80) {
        this.buf[this.length++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      this.buf[this.length++] = v;
      return;
    }
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  /** A string as UTF-8, encoded in place (at most 3 bytes per UTF-16 unit; a lone surrogate is U+FFFD, as TextEncoder.encode). */
  utf8(text: string): void {
    this.reserve(text.length * 3);
    this.length += utf8Encoder.encodeInto(text, this.buf.subarray(this.length)).written;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Writes zeros and returns where they start (for tags filled in afterwards). */
  skip(n: number): number {
    this.reserve(n);
    const at = this.length;
    this.buf.fill(0, at, at + n);
    this.length += n;
    return at;
  }

  orAt(at: number, bits: number): void {
    this.buf[at]! |= bits;
  }

  setU32At(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }

  /** A Buffer over the written bytes (no copy): what the bus sends. */
  finish(): Buffer {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset, this.length);
  }

  /** The written bytes copied out at their exact size (small ones share Node's buffer pool), and the writer emptied for reuse. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    out.set(this.buf.subarray(0, this.length));
    this.length = 0;
    return out;
  }
}

/** At most 8 varint bytes: 56 bits, past every safe integer the writer produces. */
const MAX_VARINT_BYTES = 8;

export class ByteReader {
  private readonly view: DataView;
  at = 0;

  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.at;
  }

  need(n: number, what: string): void {
    if (this.remaining < n) throw new WireError('unparseable', `truncated: ${what} needs ${n} byte(s) at offset ${this.at}, ${this.remaining} left`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.at++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.at, true);
    this.at += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }

  varint(what: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.u8(what);
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
    }
    throw new WireError('unparseable', `${what}: varint longer than ${MAX_VARINT_BYTES} bytes at offset ${this.at}`);
  }

  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
}
