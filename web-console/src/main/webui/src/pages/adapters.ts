import type { Page } from '../main';
import { ADAPTERS, ApiError, EVALUATIONS, JOBS, download, getJson, listAll } from '../api';
import { age, bytes, errorBox, h, num, page, replace, statusBadge, table } from '../ui';

/** How far up the init_adapter chain the page follows (a chain is a few stages long; a cycle cannot loop forever). */
const MAX_LINEAGE = 10;

function playgroundHref(base: string, adapter: string): string {
  return `#/playground?base=${encodeURIComponent(base)}&adapters=${encodeURIComponent(adapter)}`;
}

/** The tenant's adapters from artifact-store, newest first, each linking to its page. */
export function adaptersPage(): Page {
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  void (async () => {
    try {
      const list = await listAll(ADAPTERS);
      const adapters: any[] = (list.data ?? []).slice().sort((a: any, b: any) => (b.created_at ?? 0) - (a.created_at ?? 0));
      if (adapters.length === 0) {
        replace(body, h('p', { class: 'empty' }, 'No adapters yet: a job stores its adapter when it succeeds.'));
        return;
      }
      replace(body, table(['Adapter', 'Method', 'Base model', 'Job', 'Trained from', 'Size', 'Created'],
        adapters.map((a) => {
          const l = a.lineage ?? {};
          return [
            h('a', { href: `#/adapters/${encodeURIComponent(a.id)}` }, a.name ?? a.id),
            l.method ?? '–',
            l.base_model ?? '–',
            a.job_id ? h('a', { href: `#/jobs/${encodeURIComponent(a.job_id)}` }, a.job_id) : '–',
            l.parent_adapter ? h('a', { href: `#/adapters/${encodeURIComponent(l.parent_adapter)}` }, l.parent_adapter) : '–',
            bytes(a.bytes),
            age(a.created_at),
          ];
        }), `${adapters.length} adapter(s)`));
    } catch (e) {
      replace(body, errorBox(e, 'The adapter list (artifact-store)'));
    }
  })();
  return { el: page('Adapters', body) };
}

/** One stage of an adapter's lineage: the adapter and, when job-api still has it, the job that trained it. */
interface Stage {
  adapter: any;
  job: any | null;
}

async function jobOf(id: string | null | undefined): Promise<any | null> {
  if (!id) return null;
  try {
    return await getJson(`${JOBS}/${encodeURIComponent(id)}`);
  } catch {
    return null; // an uploaded adapter's job_id need not be a job of this platform
  }
}

/**
 * An adapter: its lineage (base model → each init_adapter stage → this adapter, from artifact-store's
 * `lineage.parent_adapter`, with the job and task of every stage), its evaluation metrics (eval-service
 * `GET /v1/evaluations?job_id=`), and "Try it", which opens the playground with it beside its base model.
 */
export function adapterPage(id: string): Page {
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  void (async () => {
    let adapter: any;
    try {
      adapter = await getJson(`${ADAPTERS}/${encodeURIComponent(id)}`);
    } catch (e) {
      replace(body, e instanceof ApiError && e.status === 404
        ? h('p', { class: 'empty' }, `No adapter ${id} (or it belongs to another tenant).`)
        : errorBox(e, 'The adapter (artifact-store)'));
      return;
    }
    const l = adapter.lineage ?? {};
    // walk up the init_adapter chain: this adapter first, its parent next …
    const chain: Stage[] = [{ adapter, job: await jobOf(adapter.job_id) }];
    let problem: string | null = null;
    const seen = new Set<string>([adapter.id]);
    let parent: string | undefined = l.parent_adapter;
    while (parent && chain.length < MAX_LINEAGE) {
      if (seen.has(parent)) {
        problem = `the lineage loops back to ${parent}`;
        break;
      }
      seen.add(parent);
      try {
        const a = await getJson(`${ADAPTERS}/${encodeURIComponent(parent)}`);
        chain.push({ adapter: a, job: await jobOf(a.job_id) });
        parent = a.lineage?.parent_adapter;
      } catch (e) {
        problem = `parent adapter ${parent}: ${(e as Error).message}`;
        break;
      }
    }
    chain.reverse();
    const base = l.base_model ?? chain[0].adapter.lineage?.base_model ?? '–';
    const lineage = h('ol', { id: 'lineage', class: 'lineage' },
      h('li', { 'data-stage': 'base' }, h('strong', {}, 'Base model '), h('code', {}, base)),
      chain.map((s) => {
        const a = s.adapter;
        const task = s.job?.task ?? s.job?.spec?.task;
        const here = a.id === adapter.id;
        return h('li', { 'data-stage': a.id, 'aria-current': here ? 'true' : null },
          here ? h('strong', {}, a.name ?? a.id) : h('a', { href: `#/adapters/${encodeURIComponent(a.id)}` }, a.name ?? a.id),
          ` · ${a.lineage?.method ?? '?'}`, task ? ` · ${task}` : '',
          a.job_id ? [' · job ', h('a', { href: `#/jobs/${encodeURIComponent(a.job_id)}` }, a.job_id)] : null,
          s.job?.training_file ? [' · trained on ', h('code', {}, s.job.training_file)] : null);
      }));

    const metricsBox = h('div', { id: 'adapter-metrics' }, h('p', { class: 'muted' }, 'Loading the evaluation…'));
    const tryIt = h('a', { class: 'button', id: 'try-it', href: playgroundHref(base, adapter.id) }, 'Try it in the playground');
    replace(body,
      h('dl', { class: 'facts card' },
        h('dt', {}, 'Id'), h('dd', {}, h('code', {}, adapter.id)),
        h('dt', {}, 'Method'), h('dd', { id: 'adapter-method' }, l.method ?? '–'),
        h('dt', {}, 'Base model'), h('dd', {}, h('code', {}, base)),
        h('dt', {}, 'Job'), h('dd', {}, adapter.job_id ? h('a', { href: `#/jobs/${encodeURIComponent(adapter.job_id)}` }, adapter.job_id) : '–'),
        h('dt', {}, 'Dataset digest'), h('dd', {}, l.dataset_digest ? h('code', {}, String(l.dataset_digest).slice(0, 23) + '…') : '–'),
        h('dt', {}, 'Size'), h('dd', {}, bytes(adapter.bytes)),
        h('dt', {}, 'Created'), h('dd', {}, age(adapter.created_at)),
        h('dt', {}, 'Stages'), h('dd', {}, String(chain.length))),
      h('div', { class: 'actions' }, tryIt,
        h('button', { type: 'button', class: 'secondary', onclick: () => void download(`${ADAPTERS}/${encodeURIComponent(adapter.id)}/content`, `${adapter.id}.zip`) }, 'Download (zip)')),
      h('h2', {}, 'Lineage'),
      h('p', { class: 'muted' }, 'Each stage was trained starting from the one above it (init_adapter).'),
      lineage,
      problem ? h('p', { class: 'notice', role: 'status' }, `Lineage incomplete: ${problem}.`) : null,
      h('h2', {}, 'Metrics'),
      metricsBox);

    try {
      const list = await getJson(`${EVALUATIONS}?job_id=${encodeURIComponent(adapter.job_id ?? '')}`);
      const ev = (list.data ?? []).find((e: any) => e.adapter === adapter.id) ?? (list.data ?? [])[0];
      if (!ev) {
        replace(metricsBox, h('p', { class: 'empty' }, 'Not evaluated yet: eval-service scores an adapter once its job has succeeded (with a validation file).'));
        return;
      }
      const scalars = Object.entries(ev.metrics ?? {}).filter(([, v]) => typeof v === 'number') as [string, number][];
      replace(metricsBox,
        h('p', {}, 'Evaluation ', statusBadge(ev.status), ev.error ? ` ${ev.error}` : '',
          adapter.job_id ? [' · ', h('a', { href: `#/jobs/${encodeURIComponent(adapter.job_id)}/comparison` }, 'comparison with the full fine-tune')] : null),
        scalars.length > 0
          ? table(['Metric', 'Value'], scalars.map(([k, v]) => [k, num(v)]), 'Metrics on the validation file')
          : h('p', { class: 'muted' }, 'No metrics recorded.'));
    } catch (e) {
      replace(metricsBox, errorBox(e, 'The evaluation (eval-service)'));
    }
  })();
  return { el: page(`Adapter · ${id}`, body) };
}
