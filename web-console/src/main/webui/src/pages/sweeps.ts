import type { Page } from '../main';
import { ApiError, COMPARISONS, SWEEPS, getJson, postJson } from '../api';
import { Chart, PALETTE } from '../charts';
import { errorBox, h, num, page, percent, problemLine, replace, statusBadge, table } from '../ui';

const EXAMPLE = {
  base: { model: 'all-minilm-l6-v2', training_file: 'file-…', validation_file: 'file-…' },
  grid: {
    method: [
      { type: 'lora', lora: { r: 8 } },
      { type: 'adapter' },
      { type: 'prefix' },
      { type: 'prompt' },
      { type: 'ia3' },
      { type: 'lora', lora: { r: 2 } },
    ],
  },
};

/** New sweep: the request as JSON (base spec + grid or random search), submitted to job-api's POST /v1/sweeps. */
export function newSweepPage(): Page {
  const text = h('textarea', { id: 'sweep-json', rows: 18, spellcheck: false, 'aria-describedby': 'sweep-help' });
  text.value = JSON.stringify(EXAMPLE, null, 2);
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Start sweep');
  const form = h('form', {
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      let body: unknown;
      try {
        body = JSON.parse(text.value);
      } catch (e) {
        replace(out, h('p', { class: 'error', role: 'alert' }, `Not valid JSON: ${(e as Error).message}`));
        return;
      }
      submit.disabled = true;
      try {
        const sweep = await postJson(SWEEPS, body);
        location.hash = `#/sweeps/${encodeURIComponent(sweep.id)}`;
      } catch (e) {
        replace(out, e instanceof ApiError && e.errors.length > 0
          ? h('div', { class: 'error', role: 'alert' }, h('p', {}, e.message), h('ul', {}, e.errors.map((f) => h('li', {}, problemLine(f)))))
          : errorBox(e, 'The sweep (job-api)'));
      } finally {
        submit.disabled = false;
      }
    },
  }, h('label', { for: 'sweep-json' }, 'Sweep request'), text,
    h('p', { id: 'sweep-help', class: 'muted' },
      'A base job spec and either a grid (every combination) or "random": {…}, "trials", "seed". Dimensions: "method", ',
      '"hyperparameters.learning_rate", "method.lora.r", … Children run as ordinary jobs and share one full fine-tune baseline.'),
    submit, out);
  return { el: page('New sweep', form) };
}

/** A sweep live: its children (status, metric, early stops) and, when children finish, the Pareto charts. */
export function sweepPage(id: string): Page {
  const summary = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  const children = h('div');
  const sizeCanvas = h('canvas', { id: 'pareto-size', role: 'img', 'aria-label': 'score against trainable-parameter fraction per child' });
  const costCanvas = h('canvas', { id: 'pareto-cost', role: 'img', 'aria-label': 'score against training seconds per child' });
  const charts = h('div', { class: 'two-col', hidden: true },
    h('div', { class: 'chart' }, sizeCanvas), h('div', { class: 'chart' }, costCanvas));
  const cancel = h('button', { type: 'button', class: 'secondary', id: 'sweep-cancel' }, 'Cancel sweep');
  let made: Chart[] = [];
  let timer: number | undefined;
  let lines: { baseline?: number; trivial?: number } = {};
  let linesFor: string | null = null;

  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      await postJson(`${SWEEPS}/${encodeURIComponent(id)}/cancel`);
      await load();
    } catch (e) {
      replace(summary, errorBox(e, 'Cancelling the sweep (job-api)'));
    }
  });

  async function referenceLines(bestJob: string): Promise<void> {
    if (linesFor === bestJob) return;
    linesFor = bestJob;
    try {
      const c = await getJson(`${COMPARISONS}/${encodeURIComponent(bestJob)}`);
      const cmp = c.comparison ?? {};
      lines = {
        baseline: cmp.baseline?.accuracy,
        trivial: cmp.reference ? Math.max(cmp.reference.majority_accuracy ?? 0, cmp.reference.label_prior_accuracy ?? 0) : c.metrics?.reference?.majority_accuracy,
      };
    } catch {
      lines = {}; // no comparison yet: the charts go without the lines
    }
  }

  function draw(s: any): void {
    made.forEach((c) => c.destroy());
    made = [];
    const done = (s.children ?? []).filter((c: any) => c.status === 'succeeded' && typeof c.metric === 'number');
    charts.hidden = done.length === 0;
    if (done.length === 0) return;
    const method = (c: any) => String(c.params?.method?.type ?? c.params?.['method']?.type ?? 'base');
    const methods: string[] = Array.from(new Set(done.map(method)));
    const chart = (canvas: HTMLCanvasElement, x: (c: any) => number | undefined, xTitle: string, log: boolean) => {
      const pts = done.filter((c: any) => typeof x(c) === 'number' && x(c)! > 0);
      const xs = pts.map((c: any) => x(c)!);
      const lo = Math.min(...xs);
      const hi = Math.max(...xs);
      // Pareto front: no other child has a better score at a smaller x
      const sorted = [...pts].sort((a: any, b: any) => x(a)! - x(b)!);
      const front: { x: number; y: number }[] = [];
      let bestSoFar = s.higher_is_better ? -Infinity : Infinity;
      for (const c of sorted) {
        if (s.higher_is_better ? c.metric > bestSoFar : c.metric < bestSoFar) {
          bestSoFar = c.metric;
          front.push({ x: x(c)!, y: c.metric });
        }
      }
      const hline = (label: string, y: number | undefined, color: string) => typeof y === 'number' && isFinite(lo)
        ? [{ type: 'line' as const, label, data: [{ x: lo, y }, { x: hi, y }], borderColor: color, borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 }]
        : [];
      made.push(new Chart(canvas, {
        type: 'scatter',
        data: {
          datasets: [
            ...methods.map((m, i) => ({
              label: m,
              data: pts.filter((c: any) => method(c) === m).map((c: any) => ({ x: x(c)!, y: c.metric, job: c.job_id })),
              backgroundColor: PALETTE[i % PALETTE.length],
              pointRadius: 6,
            })),
            { type: 'line' as const, label: 'Pareto front', data: front, borderColor: '#111827', pointRadius: 0, borderWidth: 1 },
            ...(s.metric === 'accuracy' ? hline('full fine-tune baseline', lines.baseline, '#16a34a') : []),
            ...(s.metric === 'accuracy' ? hline('trivial reference', lines.trivial, '#dc2626') : []),
          ] as any,
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          scales: {
            x: { type: log ? 'logarithmic' : 'linear', title: { display: true, text: xTitle } },
            y: { title: { display: true, text: s.metric } },
          },
          plugins: { title: { display: true, text: `${s.metric} vs ${xTitle}` } },
        },
      }));
    };
    chart(sizeCanvas, (c) => typeof c.trainable_parameters === 'number' && c.total_parameters > 0
      ? 100 * c.trainable_parameters / c.total_parameters : undefined, 'trainable parameters (% of the model, log)', true);
    chart(costCanvas, (c) => c.train_seconds, 'training seconds', false);
  }

  async function load(): Promise<void> {
    let s: any;
    try {
      s = await getJson(`${SWEEPS}/${encodeURIComponent(id)}`);
    } catch (e) {
      replace(summary, errorBox(e, 'The sweep (job-api)'));
      return;
    }
    if (s.best?.job_id) await referenceLines(s.best.job_id);
    cancel.disabled = s.status !== 'running';
    replace(summary, h('dl', { class: 'facts card' },
      h('dt', {}, 'Status'), h('dd', { id: 'sweep-status' }, statusBadge(s.status)),
      h('dt', {}, 'Progress'), h('dd', {}, `${s.progress?.finished ?? 0} of ${s.progress?.children ?? 0} children finished (${percent(s.progress?.percent)})`),
      h('dt', {}, 'Ranked by'), h('dd', {}, `${s.metric} (${s.higher_is_better ? 'higher' : 'lower'} is better)`),
      h('dt', {}, 'Early stopping'), h('dd', {}, s.early_stopping ? 'successive halving on validation loss' : 'off'),
      h('dt', {}, 'Best child'), h('dd', { id: 'sweep-best' }, s.best
        ? [h('a', { href: `#/jobs/${encodeURIComponent(s.best.job_id)}` }, s.best.job_id), ` ${s.metric} ${num(s.best.metric)} · `,
          h('a', { href: `#/jobs/${encodeURIComponent(s.best.job_id)}/comparison` }, 'comparison'),
          s.best.adapter ? [' · ', h('a', { href: `#/adapters/${encodeURIComponent(s.best.adapter)}` }, 'adapter (lineage, metrics, try it)')] : null]
        : '–')));
    replace(children, table(['Trial', 'Job', 'Parameters', 'Status', s.metric, 'Trainable', 'Seconds', 'Early stop'],
      (s.children ?? []).map((c: any) => [
        String(c.trial),
        h('a', { href: `#/jobs/${encodeURIComponent(c.job_id)}` }, c.job_id),
        h('code', {}, JSON.stringify(c.params)),
        statusBadge(c.status),
        num(c.metric),
        typeof c.trainable_parameters === 'number' && c.total_parameters > 0 ? percent(100 * c.trainable_parameters / c.total_parameters, 3) : '–',
        num(c.train_seconds, 1),
        c.stop_reason ?? '',
      ]), 'Children'));
    draw(s);
    if (s.status === 'running') timer = window.setTimeout(() => void load(), 3000);
  }
  void load();
  return {
    el: page(`Sweep · ${id}`, h('div', { class: 'toolbar' }, cancel), summary, charts, children),
    dispose: () => {
      if (timer !== undefined) clearTimeout(timer);
      made.forEach((c) => c.destroy());
    },
  };
}

/** The tenant's sweeps, newest first. */
export function sweepsPage(): Page {
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  void (async () => {
    try {
      const list = await getJson(`${SWEEPS}?limit=50`);
      replace(body, (list.data ?? []).length === 0
        ? h('p', { class: 'empty' }, 'No sweeps yet.')
        : table(['Sweep', 'Status', 'Children', 'Ranked by', 'Best'], list.data.map((s: any) => [
          h('a', { href: `#/sweeps/${encodeURIComponent(s.id)}` }, s.id), statusBadge(s.status),
          `${s.progress?.finished ?? 0}/${s.progress?.children ?? 0}`, s.metric, s.best ? num(s.best.metric) : '–']), 'Sweeps'));
    } catch (e) {
      replace(body, errorBox(e, 'Sweeps (job-api)'));
    }
  })();
  return { el: page('Sweeps', h('p', {}, h('a', { href: '#/sweeps/new' }, 'New sweep')), body) };
}
