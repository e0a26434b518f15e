/**
 * Provider bills for `tally reconcile` (SPEC §5.2): a FOCUS CSV export, or a
 * simple CSV `provider,model,amount[,project|api_key]`. Either way each row
 * becomes { provider, model, project, apiKey, amount } with an exact amount.
 */
import { readFile } from 'node:fs/promises';
import { pushAll } from '../core/arrays.js';
import { InputError, type Problem } from '../core/errors.js';
import { type Money, parseMoney } from '../core/money.js';
import { type CsvRecord, csvRecords } from './csv.js';

export interface InvoiceRow {
  provider: string;
  model: string | null;
  project: string | null;
  apiKey: string | null;
  amount: Money;
}

/** FOCUS columns read from a FOCUS bill: who, what, which sub-account, how much. */
const FOCUS = {
  provider: 'ProviderName',
  model: 'SkuId',
  project: 'SubAccountId',
  amount: 'BilledCost',
} as const;

async function* once(text: string): AsyncIterable<string> {
  yield text;
}

export async function readInvoice(file: string): Promise<InvoiceRow[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError([
      { file, reason: `cannot read the file (${(e as NodeJS.ErrnoException).code ?? e})` },
    ]);
  }
  return parseInvoice(text, file);
}

/** A bill already read (an uploaded one: `file` names where it came from in problems). */
export async function parseInvoice(text: string, file: string): Promise<InvoiceRow[]> {
  const records: CsvRecord[] = [];
  // A month's bill can hold hundreds of thousands of rows (core/arrays.ts).
  for await (const batch of csvRecords(once(text), file)) pushAll(records, batch);
  const [header, ...rows] = records;
  if (!header) throw new InputError([{ file, reason: 'the invoice is empty' }]);
  const names = header.cells.map((c) => c.trim());
  const focus = names.includes(FOCUS.amount) && names.includes(FOCUS.provider);
  const col = (name: string) => names.indexOf(name);
  const columns = focus
    ? {
        provider: col(FOCUS.provider),
        model: col(FOCUS.model),
        project: col(FOCUS.project),
        apiKey: -1,
        amount: col(FOCUS.amount),
      }
    : {
        provider: col('provider'),
        model: col('model'),
        project: col('project'),
        apiKey: col('api_key'),
        amount: col('amount'),
      };
  const problems: Problem[] = [];
  if (columns.provider < 0 || columns.amount < 0) {
    throw new InputError([
      {
        file,
        record: header.line,
        recordKind: 'line',
        reason:
          'an invoice needs the columns provider,model,amount[,project|api_key] or a FOCUS export (ProviderName, BilledCost)',
      },
    ]);
  }
  const out: InvoiceRow[] = [];
  for (const r of rows) {
    if (r.problem) {
      problems.push(r.problem);
      continue;
    }
    const cell = (i: number) => (i >= 0 ? (r.cells[i]?.trim() ?? '') : '');
    const provider = cell(columns.provider);
    const amountText = cell(columns.amount);
    const where = { file, record: r.line, recordKind: 'line' as const };
    if (!provider) problems.push({ ...where, field: focus ? FOCUS.provider : 'provider', reason: 'missing' });
    let amount: Money | null = null;
    try {
      amount = parseMoney(amountText);
    } catch {
      problems.push({
        ...where,
        field: focus ? FOCUS.amount : 'amount',
        reason: `not a decimal amount: '${amountText}'`,
      });
    }
    if (!provider || amount === null) continue;
    out.push({
      provider,
      model: cell(columns.model) || null,
      project: cell(columns.project) || null,
      apiKey: cell(columns.apiKey) || null,
      amount,
    });
  }
  if (problems.length > 0) throw new InputError(problems);
  return out;
}
