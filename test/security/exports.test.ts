// What tally writes cannot carry an attack from the telemetry it read: CSV
// cells never start a spreadsheet formula (OWASP CSV injection), and replay
// Markdown escapes names so that they add no markup, link or HTML.
import { afterEach, describe, expect, it } from 'vitest';
import { csvField, csvTable } from '../../src/export/csv.js';
import { renderReplayMarkdown } from '../../src/export/replay.js';
import { computeReplay } from '../../src/service/replay.js';
import { BASE, ev, OCT, type Scenario, scenario } from '../statement/helpers.js';

describe('CSV cells', () => {
  it.each([
    ['=HYPERLINK("http://evil","x")', `"'=HYPERLINK(""http://evil"",""x"")"`],
    ['+cmd|calc', "'+cmd|calc"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\r=1', `"'\r=1"`],
    ['gpt-4o', 'gpt-4o'],
    ['a=b', 'a=b'],
  ])('neutralises text %j that a spreadsheet would run', (cell, out) => {
    expect(csvField(cell)).toBe(out);
  });

  it('leaves plain numbers, as text or numbers, numeric: -1.23 stays -1.23', () => {
    expect(csvField('-1.23')).toBe('-1.23');
    expect(csvField('+5')).toBe('+5');
    expect(csvField(-7)).toBe('-7');
    expect(csvTable(['SkuId', 'BilledCost'], [['=cmd()', '-0.50']])).toBe(
      "SkuId,BilledCost\r\n'=cmd(),-0.50\r\n",
    );
  });
});

describe('replay Markdown', () => {
  let s: Scenario | null = null;
  afterEach(async () => {
    await s?.close();
    s = null;
  });

  it('escapes Markdown and HTML in names that came with the telemetry', async () => {
    s = await scenario(BASE, [
      [
        ev('x1', '2026-10-21T01:00:00Z', {
          api_key: 'key-comp',
          operation: '[click](javascript:alert(1))',
          model: '<img src=x onerror=alert(1)>',
          trace_id: '*t*|`x`',
          span_id: 's1',
        }),
        ev('x2', '2026-10-21T01:00:01Z', {
          api_key: 'key-comp',
          operation: 'chat',
          trace_id: '*t*|`x`',
          span_id: 's2',
          parent_span_id: 's1',
          error_type: '__bold__\n# heading',
          status: 'error',
        }),
      ],
    ]);
    const md = renderReplayMarkdown(await computeReplay(s.store, s.config, { window: OCT }));
    expect(md).not.toContain('<img');
    expect(md).not.toContain('[click]');
    expect(md).toContain('\\[click\\](javascript:alert(1))');
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(md).toContain('### Trace \\*t\\*\\|\\`x\\`');
    expect(md).toContain('error \\_\\_bold\\_\\_ # heading');
    expect(md).not.toMatch(/^# heading/m);
  });
});
