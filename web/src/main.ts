import { ApiError, type Session, whoami } from './api.js';
import { disposeCharts } from './charts.js';
import { makeCtx, type ViewFn } from './context.js';
import { h, notice } from './dom.js';
import { defaultPeriod, href, isPeriod, parseHash, type View } from './router.js';
import { budgetsView } from './views/budgets.js';
import { eventsView } from './views/events.js';
import { overviewView } from './views/overview.js';
import { postureView } from './views/posture.js';
import { replayView } from './views/replay.js';
import { signalsView } from './views/signals.js';
import { signInView } from './views/signin.js';
import { statementView } from './views/statement.js';

const TOKEN_KEY = 'tally.token';

const VIEWS: Record<View, { title: string; render: ViewFn; teamMay: boolean }> = {
  overview: { title: 'Overview', render: overviewView, teamMay: true },
  statement: { title: 'Statement', render: statementView, teamMay: true },
  events: { title: 'Events', render: eventsView, teamMay: true },
  signals: { title: 'Signals', render: signalsView, teamMay: true },
  replay: { title: 'Replay', render: replayView, teamMay: true },
  posture: { title: 'Posture', render: postureView, teamMay: false },
  budgets: { title: 'Budgets', render: budgetsView, teamMay: true },
};

const top = document.getElementById('top')!;
const main = document.getElementById('view')!;
let session: Session | null = null;
/** Each render gets a number; a slow response for a view the user already left is dropped. */
let renderSeq = 0;

function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  session = null;
  void render();
}

async function signIn(token: string): Promise<void> {
  const s = await whoami(token);
  if (s.role === 'ingest')
    throw new ApiError(
      403,
      'forbidden',
      'This token may only send usage; sign in with an admin, finance or team token.',
    );
  sessionStorage.setItem(TOKEN_KEY, token);
  session = s;
  // Changing the hash renders through `hashchange`; otherwise render here.
  if (!parseHash(location.hash) || location.hash === '' || location.hash === '#/')
    location.hash = href('overview');
  else await render();
}

function header(s: Session, view: View, period: string): HTMLElement[] {
  const links = (Object.keys(VIEWS) as View[])
    .filter((v) => s.role !== 'team' || VIEWS[v].teamMay)
    .map((v) =>
      h(
        'li',
        {},
        h('a', { href: href(v, { period }), 'aria-current': v === view ? 'page' : null }, VIEWS[v].title),
      ),
    );
  const periodInput = h('input', {
    type: 'month',
    id: 'period',
    name: 'period',
    value: period,
    required: true,
    onchange: (e: Event) => {
      const p = (e.target as HTMLInputElement).value;
      if (!isPeriod(p)) return;
      const route = parseHash(location.hash);
      const params = new URLSearchParams(route?.params);
      params.set('period', p);
      location.hash = `#/${route?.view ?? 'overview'}?${params}`;
    },
  });
  return [
    h('a', { class: 'brand', href: href('overview', { period }) }, 'tally'),
    h('nav', { 'aria-label': 'Views' }, h('ul', {}, links)),
    h('label', { class: 'period', for: 'period' }, 'Period ', periodInput),
    h('span', { class: 'who', 'data-testid': 'who' }, s.role === 'team' ? `team lead · ${s.team}` : s.role),
    h('button', { type: 'button', class: 'link', onclick: signOut }, 'Sign out'),
  ];
}

async function render(): Promise<void> {
  const seq = ++renderSeq;
  disposeCharts();
  if (!session) {
    top.hidden = true;
    top.replaceChildren();
    main.replaceChildren(signInView(signIn));
    document.title = 'Sign in · tally';
    return;
  }
  const route = parseHash(location.hash) ?? { view: 'overview', params: new URLSearchParams() };
  const period = isPeriod(route.params.get('period')) ? route.params.get('period')! : defaultPeriod();
  const spec = VIEWS[route.view];
  top.hidden = false;
  top.replaceChildren(...header(session, route.view, period));
  document.title = `${spec.title} ${period} · tally`;
  main.replaceChildren(notice('loading', 'Loading…'));
  main.setAttribute('aria-busy', 'true');
  delete main.dataset.route;
  let content: Node;
  const mounts: Array<() => void> = [];
  if (session.role === 'team' && !spec.teamMay) {
    content = notice('forbidden', `${spec.title} is organisation-wide and not available to a team token.`);
  } else {
    try {
      content = await spec.render(makeCtx(session, route.params, period, mounts));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return signOut();
      content =
        e instanceof ApiError && e.status === 403
          ? notice('forbidden', `Not available to your token: ${e.message}`)
          : notice('error', `Could not load ${spec.title.toLowerCase()}: ${(e as Error).message}`);
    }
  }
  if (seq !== renderSeq) return;
  main.removeAttribute('aria-busy');
  main.replaceChildren(h('h1', {}, spec.title, h('span', { class: 'sub' }, ` · ${period}`)), content);
  for (const fn of mounts) fn();
  // Tests and scripts wait for this: the view for exactly this route is on screen.
  main.dataset.route = location.hash;
}

window.addEventListener('hashchange', () => {
  if (parseHash(location.hash)) void render();
});

// The skip link moves focus only: its `#view` must not become a route.
document.querySelector('.skip')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

async function start(): Promise<void> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) {
    try {
      session = await whoami(token);
    } catch {
      sessionStorage.removeItem(TOKEN_KEY);
    }
  }
  await render();
}

void start();
