// The dashboard's shell: routes (history API; the server answers every
// non-API path with index.html), the live-connection sign and the session box.
import './style.css';
import { h, replace } from './dom';
import { live, type LiveState } from './live';
import { navigate } from './nav';
import { currentUser, onSessionChange, restoreSession, signOut } from './session';
import { proposalsPage } from './pages/proposals';
import { proposalPage } from './pages/proposal';
import { proposalFormPage } from './pages/proposal_form';
import { agreementsPage, agreementPage } from './pages/agreements';
import { analysesPage } from './pages/analyses';
import { signInPage } from './pages/signin';

// A page draws into `main` and returns what to undo when the user leaves it.
export type Page = (main: HTMLElement, params: Record<string, string>, query: URLSearchParams) => Promise<() => void> | (() => void);

const routes: [RegExp, Page, string][] = [
  [/^\/$/, proposalsPage, 'Proposals'],
  [/^\/proposals$/, proposalsPage, 'Proposals'],
  [/^\/proposals\/new$/, proposalFormPage, 'New proposal'],
  [/^\/proposals\/(?<id>\d+)\/revise$/, proposalFormPage, 'Revise proposal'],
  [/^\/proposals\/(?<id>\d+)$/, proposalPage, 'Proposal'],
  [/^\/agreements$/, agreementsPage, 'Agreements'],
  [/^\/agreements\/(?<id>[a-z0-9-]+)$/, agreementPage, 'Agreement'],
  [/^\/analyses$/, analysesPage, 'Analyses'],
  [/^\/signin$/, signInPage, 'Sign in'],
];

const main = document.getElementById('main') as HTMLElement;
let leave: () => void = () => {};
let renderId = 0;


async function render(): Promise<void> {
  const id = ++renderId;
  leave();
  leave = () => {};
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const route = routes.find(([re]) => re.test(path));
  if (!route) {
    document.title = 'Not found · Normbase';
    replace(main, h('h1', {}, 'Page not found'), h('p', {}, 'Nothing lives at ', h('code', {}, path), '. ', h('a', { href: '/', 'data-link': true }, 'Go to the proposals.')));
    return;
  }
  const [re, page, title] = route;
  document.title = `${title} · Normbase`;
  replace(main, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const undo = await page(main, { ...(path.match(re)?.groups ?? {}) }, new URLSearchParams(location.search));
    if (id !== renderId) undo();
    else leave = undo;
  } catch (e) {
    if (id === renderId) replace(main, h('h1', {}, title), h('p', { class: 'alert', role: 'alert' }, (e as Error).message));
  }
}

function showLive(s: LiveState): void {
  const el = document.getElementById('live')!;
  el.dataset.state = s.kind;
  if (s.kind === 'connecting') el.textContent = 'Connecting…';
  else if (s.kind === 'live') el.textContent = '● Live';
  else if (s.kind === 'dropped') {
    el.textContent = 'Live connection lost: reconnecting…';
    el.dataset.since = String(s.since); // the last event shown: the resume point
  }
  else {
    el.textContent = s.reset
      ? 'Live again: reloaded (the server could not replay everything missed)'
      : `Live again: caught up on ${s.missed} missed update${s.missed === 1 ? '' : 's'}`;
    el.dataset.missed = String(s.missed);
    el.dataset.through = String(s.through); // the server's head when it resumed
    // Keep the sign up long enough to be read, then say "Live" again.
    setTimeout(() => live.state.kind === 'resumed' && showLive({ kind: 'live' }), 8000);
  }
}

function showSession(): void {
  const box = document.getElementById('session')!;
  const u = currentUser();
  if (!u) replace(box, h('a', { href: '/signin', 'data-link': true }, 'Sign in'));
  else
    replace(
      box,
      h('span', { id: 'whoami' }, `${u.name} (${u.role}${u.stakeholder_group ? ', ' + u.stakeholder_group : ''})`),
      h('button', { type: 'button', onclick: () => (signOut(), void render()) }, 'Sign out'),
    );
}

document.addEventListener('click', (e) => {
  const a = (e.target as Element).closest?.('a[data-link]') as HTMLAnchorElement | null;
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(a.getAttribute('href')!);
});
window.addEventListener('popstate', () => void render());
window.addEventListener('normbase:navigate', () => void render());

live.onState(showLive);
onSessionChange(showSession);
live.start();
await restoreSession();
showSession();
await live.ready();
await render();
