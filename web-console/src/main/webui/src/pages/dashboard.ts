import type { Page } from '../main';
import { ApiError, FILES, LEADERBOARD, MODELS, getJson, listAll } from '../api';
import { Chart, PALETTE } from '../charts';
import { errorBox, h, num, page, percent, replace, table } from '../ui';

interface Entry {
  jobId: string;
  method: string;
  score: number | undefined;
  fraction: number | undefined;
  retention: number | undefined;
  raw: any;
}

/**
 * Leaderboard rows, read leniently: the score is the entry's score, else accuracy, else macro-F1. eval-service's rows
 * carry trainable_parameters only: the fraction divides it by the backbone's parameter count from artifact-store
 * (annotations.parameters) when the row has no total of its own.
 */
function entryOf(e: any, modelParameters: number | undefined): Entry {
  const m = e.metrics ?? {};
  const score = [e.score, m.accuracy, e.accuracy, m.macro_f1, e.macro_f1, e.perplexity].find((x) => typeof x === 'number');
  let fraction = [e.trainable_fraction, e.trainable_ratio, e.trainable_parameter_ratio].find((x) => typeof x === 'number');
  const total = typeof e.total_parameters === 'number' ? e.total_parameters : modelParameters;
  if (fraction === undefined && typeof e.trainable_parameters === 'number' && typeof total === 'number' && total > 0) {
    fraction = Math.min(1, e.trainable_parameters / total);
  }
  return {
    jobId: e.job_id ?? e.id ?? '–',
    method: String(e.method?.type ?? e.method ?? '?'),
    score,
    fraction,
    // retention in percent: eval-service's retention_percent, or a ratio (≤ 2) from other shapes
    retention: typeof e.retention_percent === 'number' ? e.retention_percent
      : typeof e.retention === 'number' ? e.retention * (e.retention <= 2 ? 100 : 1) : undefined,
    raw: e,
  };
}

/** Per model and dataset: score against trainable-parameter fraction for every method, and the leaderboard. */
export function dashboardPage(): Page {
  const model = h('select', { id: 'dash-model' });
  const dataset = h('select', { id: 'dash-dataset' });
  const canvas = h('canvas', { id: 'scatter', role: 'img', 'aria-label': 'score against trainable-parameter fraction, one colour per method' });
  const board = h('div', { 'aria-live': 'polite' });
  const chartBox = h('div', { class: 'chart wide', hidden: true }, canvas);
  let chart: Chart | null = null;
  const modelParameters = new Map<string, number>();

  let loads = 0;
  async function load(): Promise<void> {
    // a newer choice supersedes an answer still on its way (a slow first answer must not overwrite the second)
    const mine = ++loads;
    if (!model.value || !dataset.value) {
      replace(board, h('p', { class: 'muted' }, 'Choose a model and a dataset.'));
      return;
    }
    replace(board, h('p', { class: 'muted' }, 'Loading…'));
    let entries: Entry[];
    try {
      const list = await getJson(`${LEADERBOARD}?model=${encodeURIComponent(model.value)}&training_file=${encodeURIComponent(dataset.value)}`);
      const params = modelParameters.get(model.value);
      entries = (list.data ?? list.entries ?? (Array.isArray(list) ? list : [])).map((e: any) => entryOf(e, params));
      if (mine !== loads) return;
    } catch (e) {
      if (mine !== loads) return;
      chart?.destroy();
      chart = null;
      chartBox.hidden = true;
      replace(board, e instanceof ApiError && e.status === 404
        ? h('p', { class: 'empty' }, 'No leaderboard for this model and dataset yet.')
        : errorBox(e, 'The leaderboard (eval-service)'));
      return;
    }
    const methods = Array.from(new Set(entries.map((e) => e.method)));
    chart?.destroy();
    chartBox.hidden = entries.length === 0;
    chart = new Chart(canvas, {
      type: 'scatter',
      data: {
        datasets: methods.map((m, i) => ({
          label: m,
          data: entries.filter((e) => e.method === m && e.score !== undefined && e.fraction !== undefined && e.fraction > 0)
            .map((e) => ({ x: 100 * e.fraction!, y: e.score! })),
          backgroundColor: PALETTE[i % PALETTE.length],
          pointRadius: 6,
        })),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { type: 'logarithmic', title: { display: true, text: 'trainable parameters (% of the model, log scale)' } },
          y: { title: { display: true, text: 'score' } },
        },
        plugins: { title: { display: true, text: 'Score vs trainable-parameter fraction' } },
      },
    });
    replace(board, entries.length === 0
      ? h('p', { class: 'empty' }, 'No evaluated jobs for this model and dataset yet.')
      : table(['Rank', 'Job', 'Method', 'Score', 'Retention', 'Trainable'],
          entries.map((e, i) => [
            String(e.raw.rank ?? i + 1),
            h('a', { href: `#/jobs/${encodeURIComponent(e.jobId)}/comparison` }, e.jobId),
            e.raw.two_stage
              ? h('span', {}, e.method, ' ', h('span', { class: 'badge two-stage', title: 'continued pretraining, then SFT of the same adapter' }, 'two-stage'))
              : e.method,
            num(e.score),
            percent(e.retention),
            percent(e.fraction !== undefined ? 100 * e.fraction : undefined, 3),
          ]), 'Leaderboard'));
  }

  void (async () => {
    try {
      const [models, files] = await Promise.all([listAll(MODELS), listAll(FILES)]);
      for (const m of models.data ?? []) {
        const p = m.annotations?.parameters ?? m.parameters;
        if (typeof p === 'number') modelParameters.set(m.name ?? m.id, p);
      }
      replace(model, (models.data ?? []).map((m: any) => h('option', { value: m.name ?? m.id }, m.name ?? m.id)));
      replace(dataset, (files.data ?? []).filter((f: any) => f.purpose !== 'eval').map((f: any) => h('option', { value: f.id }, `${f.filename ?? f.id} (${f.id})`)));
      await load();
    } catch (e) {
      replace(board, errorBox(e, 'Models and datasets (artifact-store)'));
    }
  })();
  model.addEventListener('change', () => void load());
  dataset.addEventListener('change', () => void load());

  return {
    el: page('Dashboard',
      h('div', { class: 'toolbar' },
        h('label', { for: 'dash-model' }, 'Model '), model,
        h('label', { for: 'dash-dataset' }, 'Dataset '), dataset),
      chartBox,
      board),
    dispose: () => chart?.destroy(),
  };
}
