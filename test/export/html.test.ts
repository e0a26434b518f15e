import { describe, expect, it } from 'vitest';
import { parseMoney } from '../../src/core/money.js';
import { escapeHtml, renderHtml } from '../../src/export/html.js';
import { charge, share, statement } from './fixtures.js';

const HOSTILE = `<script>alert("x")</script> & 'co'`;

describe('HTML report', () => {
  it('escapes the five HTML metacharacters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });

  it('escapes hostile names from the configuration everywhere', () => {
    const s = statement([
      charge({ team: HOSTILE, application: HOSTILE, tenant: HOSTILE, cost_center: HOSTILE }),
    ]);
    const names = {
      team: new Map([[HOSTILE, HOSTILE]]),
      application: new Map(),
      tenant: new Map(),
      cost_center: new Map([[HOSTILE, '<b>cc</b>']]),
    };
    const html = renderHtml(s, { title: HOSTILE, names });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>cc</b>');
    expect(html).not.toMatch(/'co'/);
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;co&#39;');
  });

  it('has one section per team, a page break between them, and is self-contained', () => {
    const s = statement([
      charge(),
      charge({ team: 'team-b', cost_center: 'cc-b', application: 'app-b' }),
      charge({
        team: null,
        cost_center: null,
        application: null,
        status: 'unattributed',
        reason: 'unknown_identity',
      }),
    ]);
    const html = renderHtml(s, {});
    expect(html.match(/<section class="team">/g)).toHaveLength(3);
    expect(html).toMatch(/@media print \{.*section\.team \{[^}]*break-before: page/);
    expect(html).not.toMatch(/<script|<link|src=|url\(/);
    expect(html).toContain('No team');
    expect(html.indexOf('team-a')).toBeLessThan(html.indexOf('team-b'));
  });

  it('shows the cost center, billed against effective, and calls out disputed and unattributed money with reasons', () => {
    const s = statement([
      charge({ billed_cost: parseMoney('1') }),
      charge({ status: 'disputed', reason: 'use_after_compromise', billed_cost: 0n }),
      charge({ status: 'unattributed', reason: 'no_owner_at_time', cost_center: null, billed_cost: 0n }),
    ]);
    const html = renderHtml(s, {
      names: {
        team: new Map([['team-a', 'Search']]),
        cost_center: new Map([['cc-a', 'Retail']]),
        application: new Map(),
        tenant: new Map(),
      },
    });
    const section = html.slice(html.indexOf('<section class="team">'));
    expect(section).toContain('Search <small>(team-a)</small>');
    expect(section).toContain('Cost center: Retail <small>(cc-a)</small>');
    expect(section).toMatch(/Team total<\/td>.*<td class="n">3\.75<\/td><td class="n">1\.00<\/td>/);
    expect(section).toMatch(
      /class="callout disputed".*use_after_compromise<\/strong> 1\.25: used after the key was reported leaked/,
    );
    expect(section).toMatch(/class="callout unattributed".*no_owner_at_time<\/strong> 1\.25/);
  });

  it('rounds lines to the cent so that they add up to the team total and the cover', () => {
    const third = parseMoney('0.333333333333');
    const s = statement(
      [1, 2, 3].map((i) =>
        charge({ application: `app-${i}`, effective_cost: third, direct_cost: third, billed_cost: third }),
      ),
    );
    const html = renderHtml(s);
    const section = html.slice(html.indexOf('<section class="team">'));
    const cells = [...section.matchAll(/<tr><td>app-\d<\/td>.*?<td class="n">([\d.]+)<\/td>/g)].map(
      (m) => m[1],
    );
    expect(cells.sort()).toEqual(['0.33', '0.33', '0.34']);
    expect(section).toMatch(/Team total<\/td>.*<td class="n">1\.00<\/td>/);
  });

  it('lists a shared pool share on its team', () => {
    const html = renderHtml(statement([], [share()]));
    expect(html).toContain('shared: pool-vectordb');
  });
});
