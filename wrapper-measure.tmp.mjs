import { DuckDBInstance } from '@duckdb/node-api';
import { wrapperSetupSql } from '/work/wt/wrapper/dist/store/duckdb/usage-sql.js';
const inst = await DuckDBInstance.create(process.argv[2], { access_mode: 'READ_ONLY' });
const c = await inst.connect();
const win = `time >= epoch_ms(${Date.UTC(2026,9,1)}::BIGINT) AND time < epoch_ms(${Date.UTC(2026,10,1)}::BIGINT)`;
const cpu0 = process.cpuUsage(); const t0 = performance.now();
for (const sql of wrapperSetupSql(win)) { const t = performance.now(); await c.run(sql); console.log('stmt ms', (performance.now()-t).toFixed(0)); }
const wall = performance.now() - t0; const cpu = process.cpuUsage(cpu0);
const n = (await c.runAndReadAll('SELECT (SELECT count(*) FROM tally_wnodes) a, (SELECT count(*) FROM tally_wnodes WHERE tok) b, (SELECT count(*) FROM tally_wrappers) w')).getRows();
console.log(JSON.stringify({ wall_ms: wall.toFixed(0), cpu_s: ((cpu.user+cpu.system)/1e6).toFixed(2), rows: n.map(r=>r.map(String)) }));
