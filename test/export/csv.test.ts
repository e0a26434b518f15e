import { describe, expect, it } from 'vitest';
import { parseMoney } from '../../src/core/money.js';
import { csvField, renderCsv } from '../../src/export/csv.js';
import { charge, share, statement } from './fixtures.js';

describe('CSV', () => {
  it('quotes as RFC 4180 says', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(null)).toBe('');
    expect(csvField(42)).toBe('42');
  });

  it('writes one row per statement line with the JSON line fields and the statement’s cents, CRLF-terminated', () => {
    const odd = parseMoney('0.123456789012');
    const s = statement(
      [charge({ team: 'team "a", the best', effective_cost: odd, direct_cost: odd, billed_cost: odd })],
      [share()],
    );
    const csv = renderCsv(s);
    const records = csv.split('\r\n');
    expect(records.at(-1)).toBe('');
    expect(records[0]).toBe(
      'cost_center,team,application,tenant,environment,category,status,reason,pool,direct_cost,shared_cost,' +
        'effective_cost,list_cost,billed_cost,events,unpriced_events,input_tokens,output_tokens',
    );
    expect(records).toHaveLength(s.lines.length + 2);
    expect(csv).toContain(
      // 0.123456789012 and the pool's 100.00: the total 100.123456789012 rounds to 100.12, the line to 0.12
      'cc-a,"team ""a"", the best",app-a,,production,inference,attributed,,,0.12,0.00,0.12,1.50,0.12,3,0,1000,200',
    );
    expect(csv).toContain(
      'cc-a,team-a,,,,shared,attributed,,pool-vectordb,0.00,100.00,100.00,100.00,100.00,0,0,0,0',
    );
  });

  it('writes the header of an empty statement', () => {
    expect(renderCsv(statement([]))).toMatch(/^cost_center,team,.*output_tokens\r\n$/);
  });
});
