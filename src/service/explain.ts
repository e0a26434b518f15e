/**
 * `tally explain EVENT_ID` and `GET /v1/explain` (SPEC §8): reads the event
 * and the spans of its trace, explains it (core/explain.ts) and adds the line
 * of its month's statement that its cost lands on.
 */
import type { Config } from '../core/config.js';
import { TallyError, UsageError } from '../core/errors.js';
import { type Explained, type ExplanationJson, explainEvent, withLine } from '../core/explain.js';
import { PriceBook } from '../core/pricing.js';
import { Registry } from '../core/registry.js';
import type { Store } from '../store/store.js';
import { computeStatementOnly } from './statement.js';

export interface ExplainRequest {
  id: string;
  /** The event's source; needed only when the id exists under several. */
  source: string | null;
  /** Only an event charged to this team (a team token); any other is "not found". */
  team?: string | null;
  /** How to name the source option in a message (`--source` on the command line, `source=` in the API). */
  sourceOption?: string;
}

export async function explain(store: Store, config: Config, req: ExplainRequest): Promise<ExplanationJson> {
  const registry = new Registry(config);
  const prices = new PriceBook(config.prices);
  const events = await store.eventsById(req.id, req.source);
  const explained: Explained[] = [];
  for (const event of events) {
    const spans = event.trace_id === null ? [] : await store.traceSpans([event.trace_id]);
    const x = explainEvent({ event, spans, config, registry, prices });
    if (req.team == null || x.charge.team === req.team) explained.push(x);
  }
  const [only, ...others] = explained;
  if (only === undefined) throw new TallyError('not_found', notFound(req));
  if (others.length > 0) {
    const sources = explained.map((x) => x.json.event.source as string);
    throw new UsageError(
      `event id '${req.id}' exists under ${sources.length} sources (${sources.join(', ')}): name one with ${req.sourceOption ?? '--source'}`,
    );
  }
  const time = only.charge.time;
  const d = new Date(time);
  const month = {
    start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
    end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  };
  const { statement } = await computeStatementOnly(store, config, month);
  return withLine(only, statement);
}

function notFound(req: ExplainRequest): string {
  return `no event with id '${req.id}'${req.source === null ? '' : ` under source '${req.source}'`}`;
}
