import type { Page } from '../main';
import { ApiError, COMPARISONS, getJson } from '../api';
import { errorBox, h, num, page, percent, replace, statusBadge, table } from '../ui';

/** Higher-is-better metrics (retention is defined for these only), as eval-service's Comparisons says. */
const HIGHER_IS_BETTER = new Set(['accuracy', 'macro_f1', 'token_accuracy', 'exact_match']);
const LOWER_IS_BETTER = new Set(['loss', 'perplexity']);

/** Scalar metrics of an object (nested values, e.g. a confusion matrix, are left out). */
function scalars(m: any): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m ?? {})) if (typeof v === 'number') out[k] = v;
  return out;
}

function confusion(cm: any, title: string): HTMLElement | null {
  const labels: string[] | undefined = cm?.labels;
  const matrix: number[][] | undefined = cm?.matrix ?? (Array.isArray(cm) ? cm : undefined);
  if (!matrix || !Array.isArray(matrix)) return null;
  const names = labels ?? matrix.map((_, i) => String(i));
  const max = Math.max(1, ...matrix.flat());
  return h('section', {}, h('h2', {}, title), h('table', { class: 'confusion' },
    h('caption', {}, `${title}: confusion matrix (rows: true label, columns: predicted)`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'true \\ predicted'), names.map((n) => h('th', { scope: 'col' }, n)))),
    h('tbody', {}, matrix.map((row, i) => h('tr', {}, h('th', { scope: 'row' }, names[i]),
      row.map((v, j) => h('td', { style: `background: rgba(37, 99, 235, ${(0.08 + 0.7 * v / max).toFixed(2)})`, class: i === j ? 'diag' : null }, String(v))))))));
}

/** What the page says while the baseline is missing: pending (training or not yet submitted) or failed, with why. */
function baselineState(c: any): HTMLElement {
  const b = c.baseline;
  const link = b?.job_id ? [' Baseline job: ', h('a', { href: `#/jobs/${encodeURIComponent(b.job_id)}` }, b.job_id), '.'] : null;
  if (b && (b.status === 'failed' || b.status === 'cancelled')) {
    return h('div', { id: 'baseline-state', class: 'error', role: 'alert', 'data-state': 'failed' },
      h('p', {}, `Baseline failed: the full fine-tune this adapter is compared with did not finish (${b.status}).`, link),
      b.error ? h('p', {}, h('code', {}, String(b.error))) : null);
  }
  if (c.is_baseline) {
    return h('p', { id: 'baseline-state', class: 'notice', role: 'status', 'data-state': 'is-baseline' },
      'This job is itself a full fine-tune baseline: adapters trained on the same model and data are compared with it.');
  }
  return h('p', { id: 'baseline-state', class: 'notice', role: 'status', 'data-state': 'pending' },
    b ? `Baseline pending (${b.status ?? 'submitted'}): eval-service compares this adapter once its full fine-tune baseline has trained and been scored.`
      : 'Baseline pending: eval-service has not submitted a full fine-tune baseline for this model and data yet.', link);
}

const VERDICT_TEXT: Record<string, string> = {
  two_stage_better: 'two-stage better',
  sft_only_better: 'SFT only better',
  no_clear_difference: 'no clear difference',
};

/**
 * The two-stage recipe's own comparison (eval-service's post_pretraining block): this adapter, trained by continued
 * pretraining then SFT of the same adapter, against the SFT-only run of the same spec that eval-service submitted for
 * the tenant. Waiting, failed (with the counterpart job's reason) or compared with paired bootstrap 95 % intervals.
 */
function postPretrainingSection(c: any): HTMLElement | null {
  const p = c.post_pretraining;
  if (!p) return null;
  const cp = p.counterpart ?? {};
  const cpLink = cp.job_id ? h('a', { href: `#/jobs/${encodeURIComponent(cp.job_id)}` }, cp.job_id) : null;
  const stages = (p.pretraining_stages ?? []) as any[];
  const stageText = stages.length > 0
    ? stages.map((s) => `${s.task}${s.steps ? ` (${s.steps} steps)` : ''}`).join(', then ')
    : 'continued pretraining';
  const intro = h('p', { class: 'muted' }, `Two-stage adapter: ${stageText}, then SFT continuing the same adapter`,
    p.init_adapter ? [' (init adapter ', h('code', {}, String(p.init_adapter)), ')'] : null,
    '. Compared with SFT alone: the same job without the pretraining stage, run automatically for this tenant.');
  let content: HTMLElement;
  if (p.status === 'counterpart_failed' || cp.status === 'failed' && p.status !== 'compared') {
    content = h('div', { id: 'post-pretraining-state', class: 'error', role: 'alert', 'data-state': 'failed' },
      h('p', {}, 'SFT-only run failed', cpLink ? [' (job ', cpLink, ')'] : null,
        ': the two-stage adapter cannot be compared with SFT alone. The next two-stage job with this spec submits it again.'),
      cp.error ? h('p', {}, h('code', {}, String(cp.error))) : null);
  } else if (p.status !== 'compared') {
    content = h('p', { id: 'post-pretraining-state', class: 'notice', role: 'status', 'data-state': 'pending' },
      `SFT-only run ${cp.status ?? 'pending'}`, cpLink ? [' (job ', cpLink, ')'] : null,
      ': eval-service compares once it has trained and been scored.');
  } else {
    const metrics = ['loss', 'perplexity', 'token_accuracy', 'exact_match']
      .filter((m) => typeof p.two_stage?.[m] === 'number' && typeof p.sft_only?.[m] === 'number');
    const rows = metrics.map((m) => {
      const d = p.delta?.[m] ?? p.two_stage[m] - p.sft_only[m];
      const ci = p.delta_ci95?.[m];
      const better = LOWER_IS_BETTER.has(m) ? d < 0 : d > 0;
      return [m, num(p.two_stage[m]), num(p.sft_only[m]),
        h('span', { class: better ? 'up' : 'down' }, (d >= 0 ? '+' : '') + num(d)),
        ci ? `[${num(ci.low)}, ${num(ci.high)}]` : '–',
        h('span', { class: `verdict ${p.verdict?.[m] ?? ''}`, 'data-verdict': p.verdict?.[m] ?? '' },
          VERDICT_TEXT[p.verdict?.[m]] ?? '–')];
    });
    content = h('div', { id: 'post-pretraining-state', 'data-state': 'compared' },
      table(['Metric', 'Two-stage (pretraining → SFT)', 'SFT only', 'Delta', '95 % interval', 'Verdict'], rows,
        'Two-stage adapter vs SFT only'),
      h('p', { class: 'muted' }, `Deltas are two-stage minus SFT only; intervals are paired bootstrap 95 % intervals over `
        + `${p.examples ?? '?'} validation examples (exact match over the first ${p.exact_match_examples ?? '?'}), `
        + `${p.resamples ?? '?'} resamples. SFT-only job: `, cpLink ?? '–', '.'));
  }
  return h('section', { id: 'post-pretraining', class: 'card' }, h('h2', {}, 'Continued pretraining vs SFT only'), intro, content);
}

/**
 * Adapter vs its full fine-tune baseline, from eval-service's GET /v1/comparisons/{job_id}:
 * {status, error, method, is_baseline, metrics, baseline: {id, status, job_id, error} | null,
 *  comparison: {baseline, delta, retention_percent, ratios, trainable_percent} | null (while the baseline trains),
 *  post_pretraining: the two-stage block (see postPretrainingSection) | null}.
 */
export function comparisonPage(jobId: string): Page {
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  void (async () => {
    let c: any;
    try {
      c = await getJson(`${COMPARISONS}/${encodeURIComponent(jobId)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        replace(body, h('p', { id: 'evaluation-state', class: 'empty', 'data-state': 'none' },
          'No evaluation of this job yet: eval-service scores an adapter once its job has succeeded, then compares it with a full fine-tune baseline.'));
      } else {
        replace(body, errorBox(e, 'The comparison (eval-service)'));
      }
      return;
    }
    const adapter = scalars(c.metrics);
    const cmp = c.comparison ?? null;
    const facts = h('dl', { class: 'facts card' },
      h('dt', {}, 'Adapter job'), h('dd', {}, h('a', { href: `#/jobs/${encodeURIComponent(jobId)}` }, jobId)),
      h('dt', {}, 'Evaluation'), h('dd', { id: 'evaluation-status' }, statusBadge(c.status), c.error ? ` ${c.error}` : ''),
      h('dt', {}, 'Method'), h('dd', {}, String(c.method?.type ?? c.method ?? '–')),
      h('dt', {}, 'Baseline job'), h('dd', {}, c.baseline?.job_id
        ? [h('a', { href: `#/jobs/${encodeURIComponent(c.baseline.job_id)}` }, c.baseline.job_id), ' ', statusBadge(c.baseline.status)] : '–'),
      h('dt', {}, 'Trainable parameters'), h('dd', { id: 'trainable-percent' }, cmp ? percent(cmp.trainable_percent, 3) : '–'),
      cmp?.ratios ? Object.entries(cmp.ratios).map(([k, v]) => [h('dt', {}, k.replace(/_/g, ' ')), h('dd', {}, `${num(v as number, 4)} × baseline`)]) : null);

    if (!cmp) {
      replace(body, facts, postPretrainingSection(c), baselineState(c),
        Object.keys(adapter).length > 0
          ? table(['Metric', 'Adapter'], Object.entries(adapter).map(([k, v]) => [k, num(v)]), 'Adapter metrics (baseline pending)')
          : h('p', { class: 'muted' }, c.status === 'failed'
            ? 'The adapter could not be evaluated (see the evaluation error above).'
            : `The adapter's evaluation is ${c.status ?? 'pending'}: its metrics appear here when it finishes.`),
        h('details', {}, h('summary', {}, 'Raw comparison JSON'), h('pre', { class: 'spec' }, JSON.stringify(c, null, 2))));
      return;
    }
    const baseline = scalars(cmp.baseline);
    const delta = scalars(cmp.delta);
    const retention = scalars(cmp.retention_percent);
    const names = Object.keys(adapter).filter((n) => n in baseline);
    const rows = names.map((n) => {
      const d = delta[n] ?? adapter[n] - baseline[n];
      // a degenerate comparison (neither side beats the trivial reference) has no retention: don't make one up
      const r = cmp.degenerate ? undefined
        : retention[n] ?? (HIGHER_IS_BETTER.has(n) && baseline[n] > 0 ? (100 * adapter[n]) / baseline[n] : undefined);
      return [n, num(adapter[n]), num(baseline[n]),
        h('span', { class: (LOWER_IS_BETTER.has(n) ? d <= 0 : d >= 0) ? 'up' : 'down' }, (d >= 0 ? '+' : '') + num(d)),
        percent(r)];
    });
    const ci = cmp.accuracy_delta_ci95;
    const ref = cmp.reference ?? {};
    const refText = typeof ref.majority_accuracy === 'number'
      ? `always predicting “${ref.majority_label}” scores accuracy ${num(ref.majority_accuracy)}; guessing by the training label frequencies ${num(ref.label_prior_accuracy)}`
      : typeof ref.base_perplexity === 'number' ? `the base model without adapter has perplexity ${num(ref.base_perplexity)}`
        + (typeof ref.base_exact_match === 'number' ? `, exact match ${num(ref.base_exact_match)}` : '') : null;
    replace(body, facts, postPretrainingSection(c),
      cmp.degenerate
        ? h('div', { id: 'degenerate', class: 'error', role: 'alert' },
          h('p', {}, h('strong', {}, 'Degenerate comparison: '), String(cmp.degenerate_reason ?? 'neither side beats the trivial reference'),
            '. Retention is not reported: matching a baseline that learned nothing is not a success.'))
        : null,
      refText ? h('p', { id: 'trivial-reference', class: 'muted' }, `Trivial reference: ${refText}.`) : null,
      ci ? h('p', { id: 'delta-ci' }, `Accuracy delta ${num(cmp.delta?.accuracy)} (paired bootstrap 95 % interval `,
        h('strong', {}, `[${num(ci.low)}, ${num(ci.high)}]`), ` over ${ci.examples} validation examples, ${ci.resamples} resamples).`) : null,
      rows.length > 0
        ? table(['Metric', 'Adapter', 'Baseline (full fine-tune)', 'Delta', 'Retention'], rows, 'Adapter vs baseline')
        : h('p', { class: 'muted' }, 'The comparison holds no metric that both sides have.'),
      h('div', { class: 'two-col' },
        confusion(c.confusion_matrix ?? c.metrics?.confusion_matrix, 'Adapter'),
        confusion(cmp.baseline_confusion_matrix, 'Baseline')),
      h('details', {}, h('summary', {}, 'Raw comparison JSON'), h('pre', { class: 'spec' }, JSON.stringify(c, null, 2))));
  })();
  return { el: page(`Comparison · ${jobId}`, body) };
}
