// usage: node wrapper-stmt.tmp.mjs DIST STORE CONFIG
const [dist, store, cfgPath] = process.argv.slice(2);
const { loadConfig } = await import(`${dist}/config/load.js`);
const { computeStatement } = await import(`${dist}/service/statement.js`);
const { openStore } = await import(`${dist}/store/open.js`);
const { config } = await loadConfig(cfgPath);
const s = await openStore(store);
const OCT = { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1) };
const cpu0 = process.cpuUsage(); const t0 = performance.now();
const { statement } = await computeStatement(s, config, OCT);
const wall = performance.now() - t0; const cpu = process.cpuUsage(cpu0);
await s.close();
console.log(JSON.stringify({ dist, store, wall_s: (wall / 1000).toFixed(2), cpu_s: ((cpu.user + cpu.system) / 1e6).toFixed(2), total: String(statement.totals.effective_cost), lines: statement.lines.length }));
