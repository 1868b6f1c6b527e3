/**
 * Request bodies, bounded: a client (or anyone who can reach the port) cannot make the
 * server hold more than `maxBodyBytes` of a request, nor inflate a small gzip body into
 * more than `maxInflatedBytes`.
 */
import type { IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface BodyLimits {
  maxBodyBytes: number;
  maxInflatedBytes: number;
}

/** Snowflake refuses a request body over 128 MB: so does this server by default. */
export const DEFAULT_BODY_LIMITS: BodyLimits = { maxBodyBytes: 128 * 1024 * 1024, maxInflatedBytes: 512 * 1024 * 1024 };

/** Thrown for a body past a limit; answered with HTTP 413 and the connection closed. */
export class BodyTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BodyTooLargeError';
  }
}

export async function readJson(req: IncomingMessage, limits: BodyLimits): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
    throw new BodyTooLargeError(`request body of ${declared} bytes is over the ${limits.maxBodyBytes}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limits.maxBodyBytes) throw new BodyTooLargeError(`request body is over the ${limits.maxBodyBytes}-byte limit`);
    chunks.push(c as Buffer);
  }
  let buf = Buffer.concat(chunks);
  if (buf.length === 0) return {};
  // The driver gzips bodies asynchronously and may label a body it sent uncompressed:
  // trust the gzip magic bytes, not the Content-Encoding header.
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf, { maxOutputLength: limits.maxInflatedBytes });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        throw new BodyTooLargeError(`gzip body inflates past the ${limits.maxInflatedBytes}-byte limit`);
      }
      throw new SyntaxError('request body is not valid gzip');
    }
  }
  const v: unknown = JSON.parse(buf.toString('utf8'));
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}
