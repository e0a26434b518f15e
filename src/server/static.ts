/**
 * The dashboard's static files. Paths that are not files get index.html, so
 * the dashboard's own routes survive a reload; nothing outside `dir` is served.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The dashboard page may not be framed (clickjacking) and runs only its own
 * scripts: the built bundle from this origin, which talks to this origin's
 * API. Styles allow inline `style` attributes, which ECharts sets on its
 * tooltips; images allow `data:` (the page's empty favicon).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

export async function serveStatic(dir: string, urlPath: string): Promise<Response> {
  const root = path.resolve(dir);
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    rel = '/';
  }
  let file = path.resolve(root, `.${path.posix.normalize(`/${rel}`)}`);
  if (!file.startsWith(root + path.sep) || !(await isFile(file))) file = path.join(root, 'index.html');
  if (!(await isFile(file)))
    return new Response('The dashboard is not built.\n', {
      status: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  const immutable = file.includes(`${path.sep}assets${path.sep}`);
  const headers: Record<string, string> = {
    'content-type': type,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  };
  if (type.startsWith('text/html')) Object.assign(headers, PAGE_HEADERS);
  return new Response(await readFile(file), { headers });
}
