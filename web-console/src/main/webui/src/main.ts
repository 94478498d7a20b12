import './style.css';
import { apiKey, signOut, tenant } from './api';
import { h, replace } from './ui';
import { signInPage } from './pages/signin';
import { jobsPage } from './pages/jobs';
import { newJobPage } from './pages/newjob';
import { jobDetailPage } from './pages/jobdetail';
import { comparisonPage } from './pages/comparison';
import { dashboardPage } from './pages/dashboard';
import { modelsPage } from './pages/models';
import { datasetsPage } from './pages/datasets';
import { newSweepPage, sweepPage, sweepsPage } from './pages/sweeps';
import { playgroundPage } from './pages/playground';
import { adapterPage, adaptersPage } from './pages/adapters';

/** What a page hands back: its element, and what to stop (polling, streams, charts) when the user leaves it. */
export interface Page {
  el: HTMLElement;
  dispose?: () => void;
}

const NAV: [string, string][] = [
  ['#/jobs', 'Jobs'],
  ['#/jobs/new', 'New job'],
  ['#/sweeps', 'Sweeps'],
  ['#/dashboard', 'Dashboard'],
  ['#/playground', 'Playground'],
  ['#/adapters', 'Adapters'],
  ['#/models', 'Models'],
  ['#/datasets', 'Datasets'],
];

let current: Page | null = null;

function route(hash: string): () => Page | Promise<Page> {
  const path = hash.replace(/^#/, '') || '/jobs';
  if (!apiKey() && path !== '/signin') {
    location.hash = '#/signin';
    return () => signInPage();
  }
  let m: RegExpMatchArray | null;
  if (path === '/signin') return () => signInPage();
  if (path === '/jobs' || path.startsWith('/jobs?')) return () => jobsPage();
  if (path === '/jobs/new') return () => newJobPage();
  if ((m = path.match(/^\/jobs\/([^/]+)\/comparison$/))) return () => comparisonPage(decodeURIComponent(m![1]));
  if ((m = path.match(/^\/jobs\/([^/]+)$/))) return () => jobDetailPage(decodeURIComponent(m![1]));
  if (path === '/sweeps') return () => sweepsPage();
  if (path === '/sweeps/new') return () => newSweepPage();
  if ((m = path.match(/^\/sweeps\/([^/]+)$/))) return () => sweepPage(decodeURIComponent(m![1]));
  if (path === '/dashboard') return () => dashboardPage();
  if (path === '/playground' || path.startsWith('/playground?')) return () => playgroundPage();
  if (path === '/adapters') return () => adaptersPage();
  if ((m = path.match(/^\/adapters\/([^/?]+)$/))) return () => adapterPage(decodeURIComponent(m![1]));
  if (path === '/models') return () => modelsPage();
  if (path === '/datasets') return () => datasetsPage();
  return () => ({ el: h('section', {}, h('h1', { id: 'page-title' }, 'Not found'), h('p', {}, `No page at ${path}.`)) });
}

function renderChrome(): void {
  const nav = document.getElementById('nav')!;
  const who = document.getElementById('who')!;
  const active = location.hash || '#/jobs';
  if (!apiKey()) {
    replace(nav);
    replace(who);
    return;
  }
  replace(
    nav,
    h(
      'ul',
      {},
      NAV.map(([href, label]) => {
        const isActive = href === '#/jobs' ? active === '#/jobs' || /^#\/jobs\/(?!new)/.test(active) : active.startsWith(href);
        return h('li', {}, h('a', { href, 'aria-current': isActive ? 'page' : null }, label));
      }),
    ),
  );
  replace(
    who,
    h('span', { class: 'tenant', title: 'tenant of the API key' }, `tenant: ${tenant() ?? '?'}`),
    h('button', {
      type: 'button',
      class: 'secondary',
      onclick: () => {
        signOut();
        location.hash = '#/signin';
      },
    }, 'Sign out'),
  );
}

async function render(): Promise<void> {
  current?.dispose?.();
  current = null;
  const main = document.getElementById('main')!;
  const make = route(location.hash);
  renderChrome();
  replace(main, h('p', { class: 'muted' }, 'Loading…'));
  const p = await make();
  current = p;
  replace(main, p.el);
  main.focus({ preventScroll: true });
}

// The skip link must not change the hash: "#main" would be routed as a page ("No page at main").
document.querySelector<HTMLAnchorElement>('a.skip')?.addEventListener('click', (ev) => {
  ev.preventDefault();
  document.getElementById('main')?.focus();
});

window.addEventListener('hashchange', () => void render());
void render();
