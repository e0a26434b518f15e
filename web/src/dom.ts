/** A few lines of DOM building: enough for tables and forms without a framework. */
import { csvTable } from '../../src/export/csv.js';
import { parseMoney } from './format.js';

type Attr = string | number | boolean | null | undefined;
type Child = Node | string | number | null | undefined | false | Child[];

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, Attr | ((e: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else if (c !== null && c !== undefined && c !== false) el.appendChild(document.createTextNode(String(c)));
  }
}

export interface Column {
  label: string;
  /** Right-aligned, sorted as a number. */
  numeric?: boolean;
  /** Click the header to sort (default: yes). */
  sortable?: boolean;
}

/** A cell whose sort key and CSV value differ from its text (amounts: the exact cents). */
interface Valued {
  valued: true;
  show: Child;
  value: string;
}
type Cell = Child | Valued;

/** `$1,234.50` on screen, sorted and exported as `1234.50`. */
export function valued(show: Child, value: string): Valued {
  return { valued: true, show, value };
}

const isValued = (c: Cell): c is Valued => typeof c === 'object' && c !== null && 'valued' in c;

/**
 * A table whose header cells are proper column headers; `numeric` columns
 * align right. Headers of sortable columns are buttons: a click sorts by the
 * column (largest first for numbers), a second click reverses.
 */
export function table(
  caption: string,
  columns: Column[],
  rows: Cell[][],
  attrs: Record<string, Attr> = {},
  foot?: Child[],
): HTMLElement {
  const cell = (c: Cell, i: number, tag: 'td' | 'th') => {
    const numeric = columns[i]?.numeric;
    const at = { class: numeric ? 'num' : null, scope: tag === 'th' ? 'row' : null };
    return isValued(c) ? h(tag, { ...at, 'data-value': c.value }, c.show) : h(tag, at, c);
  };
  const body = h(
    'tbody',
    {},
    rows.map((r) =>
      h(
        'tr',
        {},
        r.map((c, i) => cell(c, i, 'td')),
      ),
    ),
  );
  const heads = columns.map((c, i) =>
    h(
      'th',
      { scope: 'col', class: c.numeric ? 'num' : null, 'aria-sort': c.sortable === false ? null : 'none' },
      c.sortable === false
        ? c.label
        : h('button', { type: 'button', class: 'sort', onclick: () => sortBy(i) }, c.label),
    ),
  );
  const sortBy = (i: number) => {
    const th = heads[i] as HTMLElement;
    const numeric = columns[i]?.numeric ?? false;
    const dir = th.getAttribute('aria-sort') === (numeric ? 'descending' : 'ascending') ? -1 : 1;
    for (const o of heads) if (o.hasAttribute('aria-sort')) o.setAttribute('aria-sort', 'none');
    const first = numeric ? 'descending' : 'ascending';
    const second = numeric ? 'ascending' : 'descending';
    th.setAttribute('aria-sort', dir === 1 ? first : second);
    // rows opened under a row (an explanation) close before the rows move
    for (const d of body.querySelectorAll('tr.detail-row')) d.remove();
    for (const b of body.querySelectorAll('[aria-expanded="true"]')) b.setAttribute('aria-expanded', 'false');
    const keyed = [...body.rows].map((tr) => ({ tr, key: sortKey(tr.cells[i]) }));
    keyed.sort((a, b) => dir * (numeric ? compareNumbers(b.key, a.key) : a.key.localeCompare(b.key)));
    body.replaceChildren(...keyed.map((k) => k.tr));
  };
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      attrs,
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, heads)),
      body,
      foot
        ? h(
            'tfoot',
            {},
            h(
              'tr',
              {},
              foot.map((c, i) => cell(c, i, i === 0 ? 'th' : 'td')),
            ),
          )
        : null,
    ),
  );
}

function sortKey(td: HTMLTableCellElement | undefined): string {
  return td?.dataset.value ?? td?.textContent?.trim() ?? '';
}

/** Exact for amounts (`1234.50`); counts shown as `1,234` are read without their commas. */
function compareNumbers(a: string, b: string): number {
  const n = (s: string) => {
    const plain = s.replace(/[,$\s]/g, '').replace('−', '-');
    return /^-?\d+(\.\d+)?$/.test(plain) ? parseMoney(plain) : null;
  };
  const x = n(a);
  const y = n(b);
  if (x === null || y === null) return x === y ? 0 : x === null ? -1 : 1;
  return x === y ? 0 : x < y ? -1 : 1;
}

/**
 * The rows on screen, in their order, as CSV: amounts as exact decimal
 * cents, names as shown with their ids in a column beside.
 */
export function tableCsv(el: HTMLElement): string {
  const t = el.querySelector('table');
  if (!t) return '';
  const labels = [...t.tHead!.rows[0]!.cells].map((c) => c.textContent?.trim() ?? '');
  const rows = [...t.tBodies[0]!.rows].filter((r) => !r.classList.contains('detail-row'));
  const hasIds = labels.map((_, i) => rows.some((r) => r.cells[i]?.querySelector('[data-id]')));
  const header = labels.flatMap((l, i) => (hasIds[i] ? [l, `${l} id`] : [l]));
  const values = rows.map((r) =>
    labels.flatMap((_, i) => {
      const td = r.cells[i];
      const v = td?.dataset.value ?? td?.textContent?.trim() ?? '';
      const id = (td?.querySelector('[data-id]') as HTMLElement | null)?.dataset.id ?? '';
      return hasIds[i] ? [v, id] : [v];
    }),
  );
  return csvTable(header, values);
}

/** Hands the browser a file to save. */
export function download(filename: string, text: string, type = 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A "Download CSV" button for the table inside `wrap`. */
export function csvButton(wrap: () => HTMLElement | null, filename: string): HTMLElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      'data-testid': 'download-csv',
      onclick: () => {
        const el = wrap();
        if (el) download(filename, tableCsv(el));
      },
    },
    'Download CSV',
  );
}

export function notice(
  kind: 'empty' | 'error' | 'forbidden' | 'loading',
  text: string,
  ...more: Child[]
): HTMLElement {
  return h(
    'div',
    {
      class: `notice ${kind}`,
      role: kind === 'error' || kind === 'forbidden' ? 'alert' : 'status',
      'data-testid': kind,
    },
    h('p', {}, text),
    more,
  );
}

export function dash(v: string | null | undefined): string {
  return v === null || v === undefined || v === '' ? '—' : v;
}
