/**
 * `tally pull … --server URL`: the pages fetched from the provider go to a
 * running `tally serve` instead of the store it holds. The cursor is read
 * from the server (`GET /v1/pull/cursor`) and each page is sent as the
 * canonical events the parser made (`POST /v1/pull/pages`), which the server
 * stores in one batch under the page's label, as a pull on the store does.
 */
import { UsageError } from '../core/errors.js';
import type { PullReportKey, PullTarget } from '../service/pull.js';
import type { IngestResult } from '../store/store.js';
import { callServer, postToServer, type Server } from './remote.js';
import { canonicalRecord } from './remote-ingest.js';

export function serverPullTarget(server: Server): PullTarget {
  return {
    async cursor(key) {
      const out = await callServer(
        server,
        { method: 'GET', path: '/v1/pull/cursor' },
        keyQuery(key),
        undefined,
      );
      const body = JSON.parse(String(out.body)) as { complete_until?: unknown };
      if (body.complete_until === null) return null;
      const t = typeof body.complete_until === 'string' ? Date.parse(body.complete_until) : Number.NaN;
      if (Number.isNaN(t))
        throw new UsageError(`the server at ${server.url} did not give a pull cursor: is it a tally server?`);
      return t;
    },
    async storePage(key, completeUntil, events) {
      if (events.length === 0) return { batch: null, stored: 0, duplicates: 0, superseded: 0 };
      const q = keyQuery(key);
      if (completeUntil !== null) q.set('complete_until', new Date(completeUntil).toISOString());
      const body = events.map((e) => JSON.stringify(canonicalRecord(e))).join('\n');
      const res = await postToServer(server, '/v1/pull/pages', 'application/x-ndjson', body, q);
      const r = (await res.json()) as IngestResult;
      return { batch: r.batch ?? null, stored: r.stored, duplicates: r.duplicates, superseded: r.superseded };
    },
  };
}

function keyQuery(key: PullReportKey): URLSearchParams {
  return new URLSearchParams({ provider: key.provider.name, report: key.report, width: key.width });
}
