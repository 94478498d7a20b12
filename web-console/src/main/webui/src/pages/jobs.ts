import type { Page } from '../main';
import { JOBS, getJson } from '../api';
import { age, errorBox, h, methodOf, page, replace, statusBadge, table } from '../ui';

const STATUSES = ['validating_files', 'queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'];
const POLL_MS = 3000;

/** The tenant's jobs, newest first, refreshed every few seconds; filter by status. */
export function jobsPage(): Page {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const filter = h(
    'select',
    {
      id: 'status-filter',
      onchange: () => {
        const s = filter.value;
        history.replaceState(null, '', s ? `#/jobs?status=${s}` : '#/jobs');
        void load();
      },
    },
    h('option', { value: '' }, 'all'),
    STATUSES.map((s) => h('option', { value: s }, s.replace(/_/g, ' '))),
  );
  filter.value = params.get('status') ?? '';
  const body = h('div', { 'aria-live': 'polite', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
  const updated = h('span', { class: 'muted' });

  let timer: number | undefined;
  let stopped = false;

  async function load(): Promise<void> {
    window.clearTimeout(timer);
    try {
      const list = await getJson(`${JOBS}?limit=100`);
      const jobs: any[] = (list.data ?? []).filter((j: any) => !filter.value || j.status === filter.value);
      if (jobs.length === 0) {
        replace(body, h('p', { class: 'empty' }, filter.value ? `No ${filter.value.replace(/_/g, ' ')} jobs.` : 'No jobs yet. ', filter.value ? null : h('a', { href: '#/jobs/new' }, 'Submit one.')));
      } else {
        replace(
          body,
          table(
            ['Job', 'Status', 'Model', 'Method', 'Progress', 'Created'],
            jobs.map((j) => {
              const pct = Number(j.progress?.percent ?? (j.status === 'succeeded' ? 100 : 0));
              return [
                h('a', { href: `#/jobs/${encodeURIComponent(j.id)}` }, j.id),
                statusBadge(j.status),
                j.model ?? '–',
                methodOf(j),
                h('span', { class: 'progress-cell' },
                  h('progress', { max: 100, value: pct, 'aria-label': `progress of ${j.id}` }),
                  ` ${pct.toFixed(0)} %`),
                h('span', { title: String(j.created_at ?? '') }, age(j.created_at)),
              ];
            }),
            `${jobs.length} job(s)${list.has_more ? ' (the newest 100)' : ''}`,
          ),
        );
      }
      updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      replace(body, errorBox(e, 'The job list (job-api)'));
    }
    body.setAttribute('aria-busy', 'false');
    if (!stopped) timer = window.setTimeout(() => void load(), POLL_MS);
  }
  void load();

  const el = page(
    'Jobs',
    h('div', { class: 'toolbar' },
      h('label', { for: 'status-filter' }, 'Status '), filter,
      h('a', { class: 'button', href: '#/jobs/new' }, 'New job'),
      updated),
    body,
  );
  return {
    el,
    dispose: () => {
      stopped = true;
      window.clearTimeout(timer);
    },
  };
}
