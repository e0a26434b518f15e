import { DuckDBInstance } from '@duckdb/node-api';
const inst = await DuckDBInstance.create(process.argv[2]);
const c = await inst.connect();
for (const sql of process.argv.slice(3)) { await c.run(sql); }
console.log('ok');
