// A provider's bill for `tally reconcile` (SPEC §5.2) at the size real bills
// have: a month's FOCUS export holds hundreds of thousands of rows. The rows
// were once gathered with push(...batch), which throws past ~120k arguments.
import { describe, expect, it } from 'vitest';
import { formatMoney } from '../../src/core/money.js';
import { parseInvoice } from '../../src/ingest/invoice.js';

describe('a provider bill', () => {
  it('reads a FOCUS export of 200,000 rows, every row and every cent', async () => {
    const rows = ['ProviderName,SkuId,BilledCost,BillingCurrency'];
    for (let i = 0; i < 200_000; i++) rows.push(`OpenAI,gpt-4o,0.0${i % 10}1,USD`);
    const bill = await parseInvoice(`${rows.join('\n')}\n`, 'focus-bill.csv');
    expect(bill).toHaveLength(200_000);
    expect(bill.at(-1)).toMatchObject({ provider: 'OpenAI', model: 'gpt-4o', amount: 91_000_000_000n });
    // 20,000 rows of each of 0.001, 0.011, ..., 0.091: 20,000 × 0.460.
    expect(formatMoney(bill.reduce((sum, r) => sum + r.amount, 0n))).toBe('9200.00');
  });
});
