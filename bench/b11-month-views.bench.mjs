// B11: the month's views an analyst opens on the dashboard, as it asks the
// server for them, on the shared benchmark month (bench/lib/month-store.mjs):
// the daily spend, the breakdown by team, the posture, the statement's table
// through the API (`format=table`: the command's own output, 360k lines), and
// the sampling plan (`GET /v1/sampling`, what `tally sampling` prints).
// Each view is asked of a freshly started `tally serve` (its own process), so
// that its peak memory (the server's VmHWM) is its own, timed from request to
// last byte. Reference in the same run: the team-level statement
// (`GET /v1/statements?level=team`), the view every other one adds up to.
// Guards: the breakdown's total and the table's effective cost are the
// statement's, to the cent, the daily series add up to its direct cents, and
// the sampling plan's team costs add up to its teams' exact direct cost.
// No target: these are the figures to keep an eye on (a view that crashed,
// took minutes or held gigabytes was found at this scale only).
import { readFileSync, rmSync } from 'node:fs';
import { parseMoney } from '../dist/core/money.js';
import { load } from './lib/cli.mjs';
import { monthStore } from './lib/month-store.mjs';
import { serve, servedConfig } from './lib/serve.mjs';

const TOKEN = 'bench-admin-token';
const loadBefore = load();
const { storePath, configPath, events, generator } = await monthStore();

const { dir, yaml } = servedConfig(configPath, storePath, TOKEN, 'admin');

/** The server's peak resident memory so far, in MiB (VmHWM), or null where /proc has none. */
function peakMiB(pid) {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

/** One view asked of a fresh server: its body, seconds and the server's peak memory. */
async function view(pathAndQuery) {
  const { child, base } = await serve(yaml);
  try {
    const t = performance.now();
    const res = await fetch(`${base}${pathAndQuery}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = await res.text();
    const s = (performance.now() - t) / 1000;
    if (res.status !== 200) throw new Error(`${pathAndQuery}: ${res.status} ${body.slice(0, 300)}`);
    return { body, s: Math.round(s * 100) / 100, peak: peakMiB(child.pid) };
  } finally {
    child.kill();
  }
}

const cents = (text) => BigInt(String(text).replace('.', ''));
try {
  const statement = await view('/v1/statements?period=2026-10&level=team');
  const daily = await view('/v1/spend/daily?period=2026-10');
  const breakdown = await view('/v1/breakdown?period=2026-10&by=team');
  const posture = await view('/v1/posture?from=2026-10-01&to=2026-11-01');
  const table = await view('/v1/statements?period=2026-10&format=table');
  const sampling = await view('/v1/sampling?period=2026-10&rate=0.1');

  const st = JSON.parse(statement.body);
  const direct = st.lines.reduce((a, l) => a + cents(l.cents.direct_cost), 0n);
  const dailyTotal = cents(JSON.parse(daily.body).total_cents);
  const breakdownTotal = cents(JSON.parse(breakdown.body).totals.cents.effective_cost);
  const tableEffective = /^effective\s+(\S+)$/m.exec(table.body)?.[1];
  const plan = JSON.parse(sampling.body);
  const teamsDirect = st.lines
    .filter((l) => l.team !== null)
    .reduce((a, l) => a + parseMoney(l.direct_cost), 0n);
  const planTeams = plan.rows.filter((r) => r.level === 'team').reduce((a, r) => a + parseMoney(r.cost), 0n);
  const equal = {
    sampling: planTeams === teamsDirect,
    daily: dailyTotal === direct,
    breakdown: breakdownTotal === cents(st.totals.cents.effective_cost),
    table: tableEffective !== undefined && cents(tableEffective) === cents(st.totals.cents.effective_cost),
  };
  const row = (v) => `${v.s} s, ${v.peak} MiB (${(v.s / statement.s).toFixed(1)}×)`;
  console.log(
    JSON.stringify({
      name: 'B11 month views (dashboard)',
      target:
        'no target: each view of the month answers, adding up to the statement (times beside the team-level statement’s)',
      figures: {
        month: `${generator}, ${events} events`,
        'reference: GET /v1/statements?level=team': `${statement.s} s, ${statement.peak} MiB`,
        'GET /v1/spend/daily': row(daily),
        'GET /v1/breakdown?by=team': row(breakdown),
        'GET /v1/posture (October)': row(posture),
        'GET /v1/statements?format=table (line level)': `${row(table)}, ${Math.round(table.body.length / 2 ** 20)} MB`,
        'GET /v1/sampling?rate=0.1 (tally sampling)': `${row(sampling)}, ${plan.rows.length} rows`,
        'add up to the statement (daily, breakdown, table, sampling)': Object.values(equal).every(Boolean)
          ? 'yes'
          : JSON.stringify(equal),
        'load average before / after': `${loadBefore} / ${load()}`,
      },
      pass: Object.values(equal).every(Boolean),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
