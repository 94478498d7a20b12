import type { Page } from '../main';
import { ApiError, COMPARISONS, getJson } from '../api';
import { bytes, errorBox, h, num, page, percent, replace, table } from '../ui';

/** A metrics object from wherever the comparison keeps it. */
function metricsOf(side: any): Record<string, number> {
  const m = side?.metrics ?? side ?? {};
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'number') out[k] = v;
  return out;
}

/** Trainable fraction in percent, from a fraction, a percentage or the two parameter counts. */
function trainablePercent(c: any): number | undefined {
  const a = c.adapter ?? {};
  if (typeof c.trainable_percent === 'number') return c.trainable_percent;
  const frac = c.trainable_fraction ?? c.trainable_ratio ?? c.trainable_parameter_ratio ?? a.trainable_fraction;
  if (typeof frac === 'number') return frac * 100;
  const t = c.trainable_parameters ?? a.trainable_parameters;
  const total = c.total_parameters ?? a.total_parameters;
  return typeof t === 'number' && typeof total === 'number' && total > 0 ? (100 * t) / total : undefined;
}

function confusion(cm: any): HTMLElement | null {
  const labels: string[] | undefined = cm?.labels;
  const matrix: number[][] | undefined = cm?.matrix ?? (Array.isArray(cm) ? cm : undefined);
  if (!matrix || !Array.isArray(matrix)) return null;
  const names = labels ?? matrix.map((_, i) => String(i));
  const max = Math.max(1, ...matrix.flat());
  return h('table', { class: 'confusion' },
    h('caption', {}, 'Confusion matrix (rows: true label, columns: predicted)'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'true \\ predicted'), names.map((n) => h('th', { scope: 'col' }, n)))),
    h('tbody', {}, matrix.map((row, i) => h('tr', {}, h('th', { scope: 'row' }, names[i]),
      row.map((v, j) => h('td', { style: `background: rgba(37, 99, 235, ${(0.08 + 0.7 * v / max).toFixed(2)})`, class: i === j ? 'diag' : null }, String(v)))))));
}

/** Adapter vs its full fine-tune baseline, from eval-service's /v1/comparisons/{job_id}. */
export function comparisonPage(jobId: string): Page {
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  void (async () => {
    let c: any;
    try {
      c = await getJson(`${COMPARISONS}/${encodeURIComponent(jobId)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        replace(body, h('p', { class: 'empty' }, 'No comparison for this job yet: eval-service compares an adapter with its full fine-tune baseline once both jobs have succeeded and been evaluated.'));
      } else {
        replace(body, errorBox(e, 'The comparison (eval-service)'));
      }
      return;
    }
    const adapter = metricsOf(c.adapter ?? c.adapter_metrics);
    const baseline = metricsOf(c.baseline ?? c.baseline_metrics);
    const deltas = c.deltas ?? {};
    const retention = c.retention ?? {};
    const names = Array.from(new Set([...Object.keys(adapter), ...Object.keys(baseline)]));
    const rows = names.map((n) => {
      const a = adapter[n];
      const b = baseline[n];
      // delta and retention are computed here when the service does not send them: a − b and 100·a/b
      const d = typeof deltas[n] === 'number' ? deltas[n] : typeof a === 'number' && typeof b === 'number' ? a - b : undefined;
      const r = typeof retention[n] === 'number' ? retention[n] * (retention[n] <= 2 ? 100 : 1)
        : typeof a === 'number' && typeof b === 'number' && b !== 0 ? (100 * a) / b : undefined;
      return [n, num(a), num(b), h('span', { class: typeof d === 'number' ? (d >= 0 ? 'up' : 'down') : '' }, typeof d === 'number' ? (d >= 0 ? '+' : '') + num(d) : '–'), percent(r)];
    });
    const tp = trainablePercent(c);
    const adapterBytes = c.adapter_bytes ?? c.adapter?.bytes ?? c.sizes?.adapter;
    const fullBytes = c.full_model_bytes ?? c.baseline?.bytes ?? c.sizes?.full_model;
    const cmA = confusion(c.adapter?.confusion_matrix ?? c.adapter?.metrics?.confusion_matrix ?? c.confusion_matrix);
    const cmB = confusion(c.baseline?.confusion_matrix ?? c.baseline?.metrics?.confusion_matrix);
    replace(body,
      h('dl', { class: 'facts card' },
        h('dt', {}, 'Adapter job'), h('dd', {}, h('a', { href: `#/jobs/${encodeURIComponent(jobId)}` }, jobId)),
        h('dt', {}, 'Baseline job'), h('dd', {}, c.baseline_job_id ? h('a', { href: `#/jobs/${encodeURIComponent(c.baseline_job_id)}` }, c.baseline_job_id) : '–'),
        h('dt', {}, 'Method'), h('dd', {}, String(c.method?.type ?? c.method ?? '–')),
        h('dt', {}, 'Trainable parameters'), h('dd', { id: 'trainable-percent' }, percent(tp, 3)),
        h('dt', {}, 'Adapter size'), h('dd', {}, bytes(adapterBytes)),
        h('dt', {}, 'Full model size'), h('dd', {}, bytes(fullBytes)),
        typeof adapterBytes === 'number' && typeof fullBytes === 'number' && fullBytes > 0
          ? [h('dt', {}, 'Size ratio'), h('dd', {}, percent((100 * adapterBytes) / fullBytes, 2))] : null),
      rows.length > 0
        ? table(['Metric', 'Adapter', 'Baseline (full fine-tune)', 'Delta', 'Retention'], rows, 'Adapter vs baseline')
        : h('p', { class: 'muted' }, 'The comparison holds no numeric metrics.'),
      h('div', { class: 'two-col' },
        cmA ? h('section', {}, h('h2', {}, 'Adapter'), cmA) : null,
        cmB ? h('section', {}, h('h2', {}, 'Baseline'), cmB) : null),
      h('details', {}, h('summary', {}, 'Raw comparison JSON'), h('pre', { class: 'spec' }, JSON.stringify(c, null, 2))));
  })();
  return { el: page(`Comparison · ${jobId}`, body) };
}
