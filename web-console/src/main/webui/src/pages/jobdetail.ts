import type { Page } from '../main';
import { ADAPTERS, JOBS, download, followEvents, getJson, postJson } from '../api';
import { addPoint, stepChart } from '../charts';
import { age, duration, errorBox, h, methodOf, num, page, replace, statusBadge, table, toDate, toast } from '../ui';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * One job, live: progress and ETA, loss and learning-rate curves, the event log (history from the events list, then
 * job-api's SSE stream), cancel/pause/resume, checkpoints and the adapter download.
 */
export function jobDetailPage(id: string): Page {
  const path = `${JOBS}/${encodeURIComponent(id)}`;
  const summary = h('div', { class: 'card' }, h('p', { class: 'muted' }, 'Loading…'));
  const progress = h('progress', { id: 'job-progress', max: 100, value: 0 });
  const progressText = h('span', { id: 'job-progress-text', 'aria-live': 'polite' });
  const eta = h('span', { id: 'job-eta' });
  const controls = h('div', { class: 'actions' });
  const streamState = h('span', { id: 'stream-state', class: 'muted', 'aria-live': 'polite' });
  const lossCanvas = h('canvas', { id: 'loss-chart', role: 'img', 'aria-label': 'training loss by step: no points yet', 'data-points': 0 });
  const lrCanvas = h('canvas', { id: 'lr-chart', role: 'img', 'aria-label': 'learning rate by step: no points yet', 'data-points': 0 });
  const log = h('ol', { id: 'event-log', class: 'event-log', 'aria-label': 'event log' });
  const checkpoints = h('div', {});
  const adapterBox = h('div', {});
  const lossChart = stepChart(lossCanvas, 'loss', '#dc2626');
  const lrChart = stepChart(lrCanvas, 'learning rate', '#2563eb');

  let job: any = null;
  let stopStream: (() => void) | null = null;
  let disposed = false;
  let streamEnded = false;
  const seen = new Set<string>();
  let redrawTimer: number | undefined;

  function scheduleRedraw(): void {
    if (redrawTimer !== undefined) return;
    redrawTimer = window.setTimeout(() => {
      redrawTimer = undefined;
      lossChart.update('none');
      lrChart.update('none');
      describeChart(lossCanvas, lossChart, 'training loss by step');
      describeChart(lrCanvas, lrChart, 'learning rate by step');
    }, 200);
  }

  /** The chart's accessible name says what a sighted reader sees: how many steps are plotted and the latest value. */
  function describeChart(canvas: HTMLCanvasElement, chart: typeof lossChart, what: string): void {
    const data = chart.data.datasets[0].data;
    const last = data[data.length - 1];
    canvas.setAttribute('aria-label', data.length === 0 ? `${what}: no points yet`
      : `${what}: ${data.length} point${data.length === 1 ? '' : 's'}, latest ${num(last.y)} at step ${last.x}`);
    canvas.dataset.points = String(data.length);
  }

  function showProgress(step?: number, total?: number, etaSeconds?: number): void {
    let pct = Number(job?.progress?.percent ?? 0);
    if (typeof step === 'number' && typeof total === 'number' && total > 0) pct = (100 * step) / total;
    if (job?.status === 'succeeded') pct = 100;
    progress.value = pct;
    const s = step ?? job?.progress?.step;
    const t = total ?? job?.progress?.total_steps;
    progressText.textContent = `${pct.toFixed(1)} %${s !== undefined && t ? ` (step ${s} of ${t})` : ''}`;
    if (job && TERMINAL.has(job.status)) {
      eta.textContent = job.finished_at ? `finished ${age(job.finished_at)}` : '';
    } else if (typeof etaSeconds === 'number') {
      eta.textContent = `ETA ${duration(etaSeconds)}`;
    } else {
      const f = toDate(job?.estimated_finish);
      eta.textContent = f ? `ETA ${duration((f.getTime() - Date.now()) / 1000)}` : 'ETA –';
    }
  }

  function renderJob(): void {
    const j = job;
    replace(summary, h('dl', { class: 'facts' },
      h('dt', {}, 'Status'), h('dd', { id: 'job-status' }, statusBadge(j.status)),
      h('dt', {}, 'Model'), h('dd', {}, j.model ?? '–'),
      h('dt', {}, 'Method'), h('dd', {}, methodOf(j)),
      h('dt', {}, 'Task'), h('dd', {}, j.task ?? '–'),
      h('dt', {}, 'Training file'), h('dd', {}, h('code', {}, j.training_file ?? '–')),
      h('dt', {}, 'Created'), h('dd', {}, age(j.created_at)),
      h('dt', {}, 'Attempt'), h('dd', {}, String(j.attempt ?? 1)),
      h('dt', {}, 'Trained tokens'), h('dd', {}, num(j.trained_tokens)),
      j.error ? [h('dt', {}, 'Error'), h('dd', { class: 'error' }, `${j.error.code ?? ''} ${j.error.message ?? ''}${j.error.param ? ` (${j.error.param})` : ''}`)] : null));
    showProgress();
    const s = j.status;
    const act = (action: string, label: string, enabled: boolean) =>
      h('button', {
        type: 'button',
        class: action === 'cancel' ? 'danger' : 'secondary',
        disabled: !enabled,
        onclick: async () => {
          try {
            job = await postJson(`${path}/${action}`);
            toast(`${label}: ${job?.status ?? 'requested'}`);
            renderJob();
          } catch (e) {
            replace(controls, errorBox(e, label));
            setTimeout(() => job && renderJob(), 4000);
          }
        },
      }, label);
    replace(controls,
      act('pause', 'Pause', s === 'running' || s === 'queued'),
      act('resume', 'Resume', s === 'paused'),
      act('cancel', 'Cancel', !TERMINAL.has(s)),
      h('a', { class: 'button secondary', href: `#/jobs/${encodeURIComponent(id)}/comparison` }, 'Comparison'));
    if (j.adapter) {
      replace(adapterBox, h('button', {
        type: 'button',
        onclick: () => download(`${ADAPTERS}/${encodeURIComponent(j.adapter)}/content`, `${j.adapter}.zip`).catch((e) => adapterBox.append(errorBox(e, 'Download'))),
      }, `Download adapter ${j.adapter} (zip)`),
        ' ', h('a', { class: 'button secondary', href: `#/adapters/${encodeURIComponent(j.adapter)}` }, 'Adapter page (lineage, try it)'));
    } else {
      replace(adapterBox, h('p', { class: 'muted' }, s === 'succeeded' ? 'No adapter recorded on this job.' : 'The adapter is stored when training succeeds.'));
    }
  }

  /** source: 'history' (the events list) or 'live' (the SSE stream), kept on the log entry. */
  function onEvent(e: any, source: 'history' | 'live' = 'history'): void {
    const key = String(e.id ?? `${e.seq}-${e.created_at}-${e.type}`);
    if (seen.has(key)) return;
    seen.add(key);
    const d = e.data ?? {};
    if (e.type === 'metrics') {
      if (typeof d.step === 'number') {
        if (typeof d.loss === 'number') addPoint(lossChart, d.step, d.loss);
        if (typeof d.learning_rate === 'number') addPoint(lrChart, d.step, d.learning_rate);
        scheduleRedraw();
        if (job && !TERMINAL.has(job.status)) showProgress(d.step, d.total_steps, d.eta_seconds);
      }
    }
    if (e.type === 'status' && job) {
      const status = d.status ?? e.status;
      if (status && status !== job.status) {
        job.status = status;
        void refreshJob();
      }
    }
    if (e.type === 'checkpoint') void loadCheckpoints();
    const when = toDate(e.created_at ?? e.at);
    const text = e.message ?? (e.type === 'metrics'
      ? `step ${d.step}/${d.total_steps} loss ${num(d.loss)} lr ${num(d.learning_rate)}${d.tokens_per_second ? ` · ${num(d.tokens_per_second, 0)} tokens/s` : ''}`
      : JSON.stringify(d));
    const item = h('li', { class: `level-${e.level ?? 'info'}`, 'data-source': source },
      h('time', { datetime: when?.toISOString() ?? '' }, when ? when.toLocaleTimeString() : ''), ' ',
      h('span', { class: 'event-type' }, e.type ?? 'message'), ' ', text);
    log.prepend(item);
    while (log.children.length > 500) log.lastElementChild?.remove();
  }

  async function refreshJob(): Promise<void> {
    try {
      job = await getJson(path);
      renderJob();
    } catch (e) {
      replace(summary, errorBox(e, `Job ${id}`));
    }
  }

  async function loadCheckpoints(): Promise<void> {
    try {
      const list = await getJson(`${path}/checkpoints`);
      const cps: any[] = list.data ?? [];
      replace(checkpoints, cps.length === 0
        ? h('p', { class: 'muted' }, 'No checkpoints yet.')
        : table(['Checkpoint', 'Step', 'Created', 'Metrics'], cps.map((c) => [
            h('code', {}, c.id ?? c.fine_tuned_model_checkpoint ?? '–'),
            num(c.step ?? c.step_number),
            age(c.created_at),
            c.metrics ? Object.entries(c.metrics).map(([k, v]) => `${k} ${num(v as number)}`).join(', ') : '–',
          ])));
    } catch (e) {
      replace(checkpoints, errorBox(e, 'Checkpoints'));
    }
  }

  void (async () => {
    await refreshJob();
    if (!job || disposed) return;
    // history first (oldest first), then live from the newest event seen
    let lastId: string | null = null;
    try {
      // job-api pages the list (limit 1–100, oldest first, `after` = the last event id seen)
      const list: any[] = [];
      for (let after: string | null = null, pages = 0; pages < 50 && !disposed; pages++) {
        const events: any = await getJson(`${path}/events?limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`);
        const data: any[] = events.data ?? [];
        list.push(...data);
        if (!events.has_more || data.length === 0) break;
        after = String(events.last_id ?? data[data.length - 1].id);
      }
      list.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0) || (toDate(a.created_at)?.getTime() ?? 0) - (toDate(b.created_at)?.getTime() ?? 0));
      list.forEach((e) => onEvent(e, 'history'));
      if (list.length > 0) lastId = list[list.length - 1].id ?? null;
    } catch (e) {
      log.before(errorBox(e, 'The event history'));
    }
    void loadCheckpoints();
    if (disposed) return;
    stopStream = followEvents(`${path}/events`, (m) => {
      try {
        onEvent(JSON.parse(m.data), 'live');
      } catch {
        onEvent({ id: m.id, type: m.event, message: m.data }, 'live');
      }
    }, (state, detail) => {
      // job-api ends the stream after the job's terminal status: nothing more will come, so stop instead of reconnecting
      if (streamEnded) return; // the 'closed' that follows stopping must not overwrite the message below
      if (state === 'retrying' && job && TERMINAL.has(job.status)) {
        streamEnded = true;
        stopStream?.();
        streamState.textContent = `stream ended: the job ${job.status}`;
        return;
      }
      streamState.textContent = state === 'open' ? '● live' : state === 'retrying' ? `reconnecting… (${detail ?? ''})` : `not live${detail ? `: ${detail}` : ''}`;
    }, lastId);
  })();

  const el = page(`Job ${id}`,
    summary,
    h('div', { class: 'progress-row' },
      h('label', { for: 'job-progress' }, 'Progress'), progress, progressText, eta),
    controls,
    h('div', { class: 'charts' },
      h('div', { class: 'chart' }, lossCanvas),
      h('div', { class: 'chart' }, lrCanvas)),
    h('div', { class: 'two-col' },
      h('section', { 'aria-labelledby': 'events-title' }, h('h2', { id: 'events-title' }, 'Events ', streamState), log),
      h('section', { 'aria-labelledby': 'cp-title' },
        h('h2', { id: 'cp-title' }, 'Checkpoints'), checkpoints,
        h('h2', {}, 'Adapter'), adapterBox)));

  return {
    el,
    dispose: () => {
      disposed = true;
      stopStream?.();
      window.clearTimeout(redrawTimer);
      lossChart.destroy();
      lrChart.destroy();
    },
  };
}
