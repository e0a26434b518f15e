import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError, TallyError } from '../../src/core/errors.js';
import { detectFormat, parseFile } from '../../src/ingest/index.js';
import { collect, fixture, NOW, parseText } from './helpers.js';

const GOOD = '{"id":"a","source":"s","time":"2026-10-01T00:00:00Z","operation":"chat","input_tokens":5}';

async function problems(text: string, format: Parameters<typeof parseText>[1], file = 'bad.jsonl') {
  try {
    await parseText(text, format, { file });
  } catch (e) {
    if (e instanceof InputError) return e.problems;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('truncated and malformed JSON', () => {
  it('names the line of a truncated NDJSON record', async () => {
    expect(await problems(`${GOOD}\n{"id":"b","source":"s","ti`, 'jsonl')).toEqual([
      {
        file: 'bad.jsonl',
        record: 2,
        recordKind: 'line',
        reason: 'truncated JSON: the record starting at line 2 ends before it is complete',
      },
    ]);
  });

  it('names line and column of a malformed NDJSON record, and goes on to the next line', async () => {
    expect(await problems(`${GOOD}\n{"id": "b" "source": "s"}\n${GOOD}\n{]\n`, 'jsonl')).toEqual([
      {
        file: 'bad.jsonl',
        record: 2,
        recordKind: 'line',
        reason: "malformed JSON at line 2, column 12: Expected ',' or '}' after property value",
      },
      {
        file: 'bad.jsonl',
        record: 4,
        recordKind: 'line',
        reason: expect.stringMatching(/^malformed JSON at line 4, column 2/),
      },
    ]);
  });

  it('names the element of a truncated top-level array', async () => {
    const rows = readFileSync(fixture('litellm', 'spend-logs.json'), 'utf8');
    const cut = rows.slice(0, rows.indexOf('"msg_01XFDUDYJgAACzvnptvVoYEL"') + 40);
    expect(await problems(cut, 'litellm', 'spend.json')).toEqual([
      {
        file: 'spend.json',
        record: 1,
        recordKind: 'record',
        reason: expect.stringMatching(/^truncated JSON: the record starting at line \d+ is incomplete$/),
      },
    ]);
  });

  it('names the document of a truncated pretty-printed request', async () => {
    const doc = readFileSync(fixture('otlp', 'agent-trace.json'), 'utf8');
    expect(await problems(doc.slice(0, 5000), 'otlp', 'trace.json')).toEqual([
      {
        file: 'trace.json',
        record: 0,
        recordKind: 'record',
        reason: 'truncated JSON: the document starting at line 1 is not closed',
      },
    ]);
  });

  it('names line and column of a syntax error inside a pretty-printed document', async () => {
    const [p] = await problems(
      '{\n  "object": "page",\n  "data": [\n    {"start_time": 1,}\n  ]\n}\n',
      'openai-usage',
      'p.json',
    );
    expect(p?.reason).toMatch(/^malformed JSON at line 4, column 22: /);
  });

  it('rejects content after a top-level array', async () => {
    const [p] = await problems(`[${GOOD}]\n[${GOOD}]`, 'jsonl');
    expect(p?.reason).toBe('unexpected content after the top-level array');
  });
});

describe('invalid records', () => {
  it('collects every problem of the file before failing, and yields nothing after the first', async () => {
    const text = [
      GOOD,
      GOOD.replace('5', '-5'),
      GOOD,
      GOOD.replace('"2026-10-01T00:00:00Z"', '"yesterday"'),
      GOOD,
    ].join('\n');
    const chunks: number[] = [];
    const run = async () => {
      for await (const c of parseFile(fixture('canonical', 'events.jsonl'), 'jsonl', {
        now: NOW,
        skipInvalid: false,
        chunkSize: 1,
      })) {
        chunks.push(c.events.length);
      }
    };
    await run();
    expect(chunks).toEqual([1, 1, 1]);
    const err = await parseText(text, 'jsonl', { file: 'e.jsonl', chunkSize: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toBe(
      [
        'invalid input:',
        '  e.jsonl, line 2, field input_tokens: must not be negative, got -5',
        '  e.jsonl, line 4, field time: is not an ISO-8601 time: "yesterday"',
      ].join('\n'),
    );
  });

  it('stops after 100 problems', async () => {
    const text = Array.from({ length: 150 }, () => GOOD.replace('5', '-5')).join('\n');
    const err = (await parseText(text, 'jsonl').catch((e: unknown) => e)) as InputError;
    expect(err.problems).toHaveLength(100);
  });

  it('with skip-invalid returns rejected records with reasons and raw text, and keeps the valid ones', async () => {
    const bad = GOOD.replace('"chat"', '42');
    const { events, rejected } = await parseText(
      [GOOD, bad, GOOD.replace('"a"', '"c"')].join('\n'),
      'jsonl',
      {
        skipInvalid: true,
        file: 'e.jsonl',
      },
    );
    expect(events.map((e) => e.id)).toEqual(['a', 'c']);
    expect(rejected).toEqual([
      {
        problem: {
          file: 'e.jsonl',
          record: 2,
          recordKind: 'line',
          field: 'operation',
          reason: 'must be a string, got number',
        },
        raw: bad,
      },
    ]);
  });

  it('rejects a time years in the future', async () => {
    const [p] = await problems(GOOD.replace('2026-10-01', '2031-10-01'), 'jsonl');
    expect(p).toEqual({
      file: 'bad.jsonl',
      record: 1,
      recordKind: 'line',
      field: 'time',
      reason:
        'is far in the future: 2031-10-01T00:00:00.000Z is more than 24 hours after the time of ingestion',
    });
  });

  it('rejects a non-numeric CSV count', async () => {
    const [p] = await problems(
      'id,source,time,operation,output_tokens\na,s,2026-10-01T00:00:00Z,chat,12abc\n',
      'csv',
      'e.csv',
    );
    expect(p).toEqual({
      file: 'e.csv',
      record: 2,
      recordKind: 'line',
      field: 'output_tokens',
      reason: 'is not a number: "12abc"',
    });
  });
});

describe('format detection', () => {
  it.each([
    ['otlp', 'agent-trace.json', 'otlp'],
    ['otlp', 'file-exporter.jsonl', 'otlp'],
    ['litellm', 'spend-logs.json', 'litellm'],
    ['litellm', 'spend-logs.ndjson', 'litellm'],
    ['litellm', 'spend-logs.csv', 'litellm'],
    ['openai-usage', 'completions-page.json', 'openai-usage'],
    ['openai-usage', 'pages.ndjson', 'openai-usage'],
    ['openai-usage', 'pages-array.json', 'openai-usage'],
    ['anthropic-usage', 'messages-report.json', 'anthropic-usage'],
    ['canonical', 'events.jsonl', 'jsonl'],
    ['canonical', 'events.csv', 'csv'],
  ])('%s/%s is %s', (dir, name, format) => {
    expect(detectFormat(readFileSync(fixture(dir, name), 'utf8'), name)).toBe(format);
  });

  it('throws unknown_format naming the file', () => {
    let err: unknown;
    try {
      detectFormat('date,amount\n2026-10-01,3\n', 'bill.csv');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TallyError);
    expect((err as TallyError).code).toBe('unknown_format');
    expect((err as TallyError).message).toMatch(/^cannot tell the format of bill\.csv: /);
    expect(() => detectFormat('{"hello": "world"}', 'x.json')).toThrow(/x\.json/);
    expect(() => detectFormat('  \n', 'empty.json')).toThrow(
      'cannot tell the format of empty.json: it is empty',
    );
  });

  it('fails auto-detection of an unknown input before reading it all', async () => {
    await expect(parseText('hello world\n', 'auto', { file: 'notes.txt' })).rejects.toMatchObject({
      code: 'unknown_format',
    });
  });

  it('says so when a file cannot be read', async () => {
    await expect(
      collect(parseFile('/nonexistent/x.jsonl', 'auto', { now: NOW, skipInvalid: false })),
    ).rejects.toThrow('/nonexistent/x.jsonl: cannot read the file (no such file)');
  });
});
