/** A few lines of DOM building: enough for tables and forms without a framework. */

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

/** A table whose header cells are proper column headers; `numeric` columns align right. */
export function table(
  caption: string,
  columns: Array<{ label: string; numeric?: boolean }>,
  rows: Child[][],
  attrs: Record<string, Attr> = {},
  foot?: Child[],
): HTMLElement {
  const cell = (c: Child, i: number, tag: 'td' | 'th') =>
    h(tag, { class: columns[i]?.numeric ? 'num' : null, scope: tag === 'th' ? 'row' : null }, c);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      attrs,
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : null }, c.label)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            r.map((c, i) => cell(c, i, 'td')),
          ),
        ),
      ),
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

export function notice(kind: 'empty' | 'error' | 'forbidden' | 'loading', text: string): HTMLElement {
  return h(
    'p',
    {
      class: `notice ${kind}`,
      role: kind === 'error' || kind === 'forbidden' ? 'alert' : 'status',
      'data-testid': kind,
    },
    text,
  );
}

export function dash(v: string | null | undefined): string {
  return v === null || v === undefined || v === '' ? '—' : v;
}
