/**
 * The window picker in the header: a month, or a date range (first and last
 * day, both included; the URL keeps the API's exclusive `to`). Changing it
 * keeps the view and its filters.
 */
import { addDays, type Win } from './context.js';
import { h } from './dom.js';
import { isDate, isPeriod, type View } from './router.js';

function go(view: View, params: URLSearchParams, win: Win): void {
  const q = new URLSearchParams(params);
  for (const k of ['period', 'from', 'to']) q.delete(k);
  if ('period' in win) q.set('period', win.period);
  else {
    q.set('from', win.from);
    q.set('to', win.to);
  }
  location.hash = `#/${view}?${q}`;
}

export function windowControl(win: Win, params: URLSearchParams, view: View): HTMLElement {
  const isRange = !('period' in win);
  const month = h('input', {
    type: 'month',
    id: 'period',
    name: 'period',
    value: 'period' in win ? win.period : win.from.slice(0, 7),
    required: true,
    'aria-label': 'Month',
    onchange: (e: Event) => {
      const p = (e.target as HTMLInputElement).value;
      if (isPeriod(p)) go(view, params, { period: p });
    },
  });
  const range = 'period' in win ? null : win;
  const from = h('input', {
    type: 'date',
    id: 'from',
    name: 'from',
    value: range?.from ?? '',
    required: true,
  });
  const through = h('input', {
    type: 'date',
    id: 'through',
    name: 'through',
    value: range ? addDays(range.to, -1) : '',
    required: true,
  });
  const rangeBox = h(
    'span',
    { class: 'range', hidden: !isRange },
    h('label', { for: 'from' }, 'From '),
    from,
    h('label', { for: 'through' }, ' through '),
    through,
    h('button', { type: 'submit', class: 'small' }, 'Apply'),
  );
  const monthBox = h('span', { hidden: isRange }, month);
  const kind = h(
    'select',
    {
      id: 'window-kind',
      'aria-label': 'Window',
      onchange: (e: Event) => {
        const asRange = (e.target as HTMLSelectElement).value === 'range';
        monthBox.hidden = asRange;
        rangeBox.hidden = !asRange;
        if (asRange && !from.value) {
          from.value = `${month.value}-01`;
          through.value = addDays(`${nextMonth(month.value)}-01`, -1);
        }
      },
    },
    h('option', { value: 'month', selected: !isRange }, 'Month'),
    h('option', { value: 'range', selected: isRange }, 'Date range'),
  );
  return h(
    'form',
    {
      class: 'window',
      'aria-label': 'Window',
      onsubmit: (e: Event) => {
        e.preventDefault();
        if (kind.value === 'month') return;
        const f = from.value;
        const t = isDate(through.value) ? addDays(through.value, 1) : '';
        if (isDate(f) && isDate(t) && t > f) go(view, params, { from: f, to: t });
        else through.setCustomValidity('The last day must be on or after the first.');
        through.reportValidity();
      },
    },
    kind,
    monthBox,
    rangeBox,
  );
}

function nextMonth(period: string): string {
  const [y = 0, m = 1] = period.split('-').map(Number);
  return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 7);
}
