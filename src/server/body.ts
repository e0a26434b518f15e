/**
 * Request bodies with a size limit that holds for the bytes on the wire and,
 * for gzip, for the decompressed bytes too (a small bomb never expands past
 * the limit in memory).
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { HttpError } from './errors.js';

const gunzipAsync = promisify(gunzip);

function tooLarge(limit: number): HttpError {
  return new HttpError('payload_too_large', `the request body exceeds ${limit} bytes`);
}

export async function readBody(req: Request, limit: number): Promise<Buffer> {
  const encoding = (req.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip')
    throw new HttpError(
      'unsupported_media_type',
      `Content-Encoding ${encoding} is not supported (gzip or none)`,
    );
  const declared = Number(req.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit);
  const raw = await readLimited(req, limit);
  if (encoding === 'identity') return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
    throw new HttpError('invalid_input', 'the body is not valid gzip');
  }
}

async function readLimited(req: Request, limit: number): Promise<Buffer> {
  if (!req.body) return Buffer.alloc(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    parts.push(value);
  }
  return Buffer.concat(parts, size);
}
