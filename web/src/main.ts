import { ApiError, get, type Session, whoami } from './api.js';
import { disposeCharts } from './charts.js';
import { makeCtx, type ViewFn, type Win, windowLabel } from './context.js';
import { h, notice } from './dom.js';
import { type Names, NO_NAMES } from './names.js';
import { href, parseHash, previousMonth, type View, windowOf } from './router.js';
import { breakdownView } from './views/breakdown.js';
import { budgetsView } from './views/budgets.js';
import { eventsView } from './views/events.js';
import { overviewView } from './views/overview.js';
import { postureView } from './views/posture.js';
import { replayView } from './views/replay.js';
import { samplingView } from './views/sampling.js';
import { signalsView } from './views/signals.js';
import { signInView } from './views/signin.js';
import { statementView } from './views/statement.js';
import { windowControl } from './window.js';

const TOKEN_KEY = 'tally.token';

const VIEWS: Record<View, { title: string; render: ViewFn; teamMay: boolean }> = {
  overview: { title: 'Overview', render: overviewView, teamMay: true },
  breakdown: { title: 'Breakdown', render: breakdownView, teamMay: true },
  statement: { title: 'Statement', render: statementView, teamMay: true },
  events: { title: 'Events', render: eventsView, teamMay: true },
  signals: { title: 'Signals', render: signalsView, teamMay: true },
  replay: { title: 'Replay', render: replayView, teamMay: true },
  posture: { title: 'Posture', render: postureView, teamMay: false },
  budgets: { title: 'Budgets', render: budgetsView, teamMay: true },
  sampling: { title: 'Sampling', render: samplingView, teamMay: true },
};

const top = document.getElementById('top')!;
const main = document.getElementById('view')!;
let session: Session | null = null;
/** Read once per sign-in: display names and the latest month with data (the default window). */
let boot: { names: Names; latest: string } | null = null;
/** Each render gets a number; a slow response for a view the user already left is dropped. */
let renderSeq = 0;

function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  session = null;
  boot = null;
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

/** Names and the latest period; a server without them still shows ids and the month that just closed. */
async function loadBoot(s: Session): Promise<{ names: Names; latest: string }> {
  const [names, latest] = await Promise.all([
    get<Names>(s.token, '/v1/names').catch(() => NO_NAMES),
    get<{ period: string | null }>(s.token, '/v1/periods/latest').catch(() => ({ period: null })),
  ]);
  return { names, latest: latest.period ?? previousMonth() };
}

function header(s: Session, view: View, win: Win, params: URLSearchParams): HTMLElement[] {
  const keep = 'period' in win ? { period: win.period } : { from: win.from, to: win.to };
  const links = (Object.keys(VIEWS) as View[])
    .filter((v) => s.role !== 'team' || VIEWS[v].teamMay)
    .map((v) =>
      h(
        'li',
        {},
        h('a', { href: href(v, keep), 'aria-current': v === view ? 'page' : null }, VIEWS[v].title),
      ),
    );
  return [
    h('a', { class: 'brand', href: href('overview', keep) }, 'tally'),
    h('nav', { 'aria-label': 'Views' }, h('ul', {}, links)),
    windowControl(win, params, view),
    h('span', { class: 'who', 'data-testid': 'who' }, s.role === 'team' ? `team lead · ${s.team}` : s.role),
    h('button', { type: 'button', class: 'link', onclick: signOut }, 'Sign out'),
  ];
}

function failure(title: string, e: unknown): HTMLElement {
  const retry = h('button', { type: 'button', onclick: () => void render() }, 'Try again');
  if (e instanceof ApiError && e.status === 403)
    return notice('forbidden', `Not available to your token: ${e.message}`);
  if (e instanceof ApiError && e.status >= 400 && e.status < 500)
    return notice(
      'error',
      `Could not load ${title.toLowerCase()}: ${e.message}. Change the period or the filters above and try again.`,
      retry,
    );
  return notice(
    'error',
    `Could not load ${title.toLowerCase()}: ${(e as Error).message}. Check that the server is running (tally serve) and reachable, then try again.`,
    retry,
  );
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
  const spec = VIEWS[route.view];
  main.setAttribute('aria-busy', 'true');
  delete main.dataset.route;
  if (!boot) {
    main.replaceChildren(notice('loading', 'Signing in…'));
    boot = await loadBoot(session);
    if (seq !== renderSeq) return;
  }
  const win = windowOf(route.params, boot.latest);
  const label = windowLabel(win);
  top.hidden = false;
  top.replaceChildren(...header(session, route.view, win, route.params));
  document.title = `${spec.title} ${label} · tally`;
  main.replaceChildren(notice('loading', `Loading ${spec.title.toLowerCase()} for ${label}…`));
  let content: Node;
  const mounts: Array<() => void> = [];
  if (session.role === 'team' && !spec.teamMay) {
    content = notice(
      'forbidden',
      `${spec.title} is organisation-wide and not available to a team token. Ask finance or an admin for it.`,
    );
  } else {
    try {
      content = await spec.render(makeCtx(session, route.params, win, boot, mounts));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return signOut();
      content = failure(spec.title, e);
    }
  }
  if (seq !== renderSeq) return;
  main.removeAttribute('aria-busy');
  main.replaceChildren(h('h1', {}, spec.title, h('span', { class: 'sub' }, ` · ${label}`)), content);
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
