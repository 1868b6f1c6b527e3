import { createHash } from 'node:crypto';

/**
 * A stable id derived from its inputs (UUID-shaped, version 8 "custom"), so that
 * replaying a topic produces the same ids and duplicates can be removed where they land.
 */
export function deterministicId(namespace: string, ...parts: readonly (string | number)[]): string {
  const hash = createHash('sha256');
  hash.update(namespace);
  for (const part of parts) {
    hash.update('\u0000');
    hash.update(String(part));
  }
  const b = hash.digest();
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
