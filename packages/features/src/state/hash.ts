// Event ids are kept per patient as 53-bit hashes (a double), not strings: 8 bytes each.
// Two 32-bit FNV-1a passes with different offsets; a collision within one patient's
// retained events (hundreds) has odds around 1e-13.

export function idHash(id: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) >>> 11);
}
