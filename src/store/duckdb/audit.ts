/** How DuckDB writes the expressions of the audit hash (the definition: src/store/audit.ts). */
import type { AuditDialect } from '../audit.js';

export const DUCKDB_AUDIT: AuditDialect = {
  sha256: (text) => `sha256(${text})`,
  text: (column) => `CAST(${column} AS VARCHAR)`,
  epochMsText: (column) => `CAST(epoch_ms(${column}) AS VARCHAR)`,
  bytewise: (text) => text,
};
