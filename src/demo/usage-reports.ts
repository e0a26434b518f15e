/**
 * Aggregated provider usage reports in 1-day buckets: an OpenAI organization
 * usage page (completions, grouped by project, key and model) and an
 * Anthropic Admin API messages usage report (grouped by key, workspace and
 * model).
 */
import type { Random } from './random.js';
import { isoSeconds } from './world.js';

const DAY_MS = 86_400_000;

interface ReportDay {
  start: number;
  /** 1 on weekdays; weekends are quieter. */
  activity: number;
}

interface ReportTotals {
  model: string;
  provider: string;
  day: number;
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
  requests: number;
}

export function reportDays(start: number, days: number): ReportDay[] {
  return Array.from({ length: days }, (_, d) => {
    const dow = new Date(start + d * DAY_MS).getUTCDay();
    return { start: start + d * DAY_MS, activity: dow === 0 || dow === 6 ? 0.25 : 1 };
  });
}

function dayTotals(
  rng: Random,
  provider: string,
  model: string,
  day: ReportDay,
  requestsPerDay: number,
  inTok: number,
  outTok: number,
): ReportTotals {
  const requests = Math.max(1, Math.round(requestsPerDay * day.activity * rng.logNormal(1, 0.15)));
  const input = Math.round(requests * rng.logNormal(inTok, 0.1));
  const cacheRead = Math.round(input * (0.2 + 0.2 * rng.next()));
  const cacheWrite = provider === 'anthropic' ? Math.round(input * 0.05 * rng.next()) : 0;
  const output = Math.round(requests * rng.logNormal(outTok, 0.1));
  return { model, provider, day: day.start, input, cacheRead, cacheWrite, output, requests };
}

export function openaiUsagePage(
  rng: Random,
  days: ReportDay[],
  scale: number,
  ids: { projectId: string; apiKeyId: string },
): { json: string; totals: ReportTotals[] } {
  const totals: ReportTotals[] = [];
  const data = days.map((day) => {
    const results = [
      dayTotals(rng, 'openai', 'gpt-4o-2024-08-06', day, 120 * scale, 2400, 380),
      dayTotals(rng, 'openai', 'gpt-4o-mini-2024-07-18', day, 300 * scale, 900, 160),
    ].map((t) => {
      totals.push(t);
      return {
        object: 'organization.usage.completions.result',
        input_tokens: t.input,
        output_tokens: t.output,
        input_cached_tokens: t.cacheRead,
        input_audio_tokens: 0,
        output_audio_tokens: 0,
        num_model_requests: t.requests,
        project_id: ids.projectId,
        user_id: null,
        api_key_id: ids.apiKeyId,
        model: t.model,
        batch: false,
        service_tier: null,
      };
    });
    return { object: 'bucket', start_time: day.start / 1000, end_time: (day.start + DAY_MS) / 1000, results };
  });
  return {
    json: `${JSON.stringify({ object: 'page', data, has_more: false, next_page: null }, null, 1)}\n`,
    totals,
  };
}

export function anthropicUsageReport(
  rng: Random,
  days: ReportDay[],
  scale: number,
  ids: { workspaceId: string; apiKeyId: string },
): { json: string; totals: ReportTotals[] } {
  const totals: ReportTotals[] = [];
  const data = days.map((day) => {
    const t = dayTotals(rng, 'anthropic', 'claude-sonnet-4-5-20250929', day, 90 * scale, 5200, 700);
    totals.push(t);
    return {
      starting_at: isoSeconds(day.start),
      ending_at: isoSeconds(day.start + DAY_MS),
      results: [
        {
          uncached_input_tokens: t.input - t.cacheRead - t.cacheWrite,
          cache_creation: { ephemeral_1h_input_tokens: 0, ephemeral_5m_input_tokens: t.cacheWrite },
          cache_read_input_tokens: t.cacheRead,
          output_tokens: t.output,
          server_tool_use: { web_search_requests: 0 },
          api_key_id: ids.apiKeyId,
          workspace_id: ids.workspaceId,
          model: t.model,
          service_tier: 'standard',
          context_window: '0-200k',
        },
      ],
    };
  });
  return { json: `${JSON.stringify({ data, has_more: false, next_page: null }, null, 1)}\n`, totals };
}
