import type { Page } from '../main';
import { ApiError, CHAT_COMPLETIONS, COMPLETIONS, MODELS, SERVED_MODELS, getJson, listAll, streamOpenAi } from '../api';
import { errorBox, h, page, replace } from '../ui';

/** At most this many adapters beside the base model (the issue's "up to three"). */
export const MAX_ADAPTERS = 3;

interface Served {
  id: string;
  name?: string | null;
  kind: 'base' | 'adapter';
  parent?: string;
  method?: string | null;
  job_id?: string | null;
}

interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

/** One column of the playground: a model (the base or one adapter), its own conversation and its last answer's numbers. */
interface Pane {
  model: Served;
  history: Turn[];
  el: HTMLElement;
  transcript: HTMLElement;
  status: HTMLElement;
  controller: AbortController | null;
}

/** "a\nb" → ["a", "b"]; one stop sequence a line, `\n` and `\t` written as escapes; at most 4 (OpenAI's limit). */
export function parseStops(text: string): string[] {
  return text.split('\n').map((s) => s.replace(/\\n/g, '\n').replace(/\\t/g, '\t')).filter((s) => s.length > 0);
}

function label(m: Served): string {
  if (m.kind === 'base') return `${m.name ?? m.id} (base)`;
  return `${m.name ?? m.id}${m.method ? ` · ${m.method}` : ''}`;
}

/**
 * Chat with a base model and up to three of its adapters side by side, streamed: eval-service's OpenAI-compatible
 * POST /v1/chat/completions (or /v1/completions for a model without a chat template) with `stream: true`, through the
 * console's proxy. Every pane keeps its own conversation; one message goes to all panes at once, so eval-service
 * decodes them in one batch (per-row LoRA). Route: #/playground?base=<model id>&adapters=<id,id>.
 */
export function playgroundPage(): Page {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const wantedBase = params.get('base');
  const wantedAdapters = (params.get('adapters') ?? '').split(',').filter(Boolean);

  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading the servable models…'));
  let panes: Pane[] = [];
  let disposed = false;

  const baseSelect = h('select', { id: 'pg-base' });
  const adapterBox = h('fieldset', { id: 'pg-adapters', class: 'adapter-picks' }, h('legend', {}, `Adapters (up to ${MAX_ADAPTERS})`));
  const mode = h('select', { id: 'pg-mode' },
    h('option', { value: 'chat' }, 'chat (messages, the model\'s chat template)'),
    h('option', { value: 'completion' }, 'completion (the text as a raw prompt)'));
  const modeHint = h('small', { class: 'hint', id: 'pg-mode-hint' });
  const temperature = h('input', { id: 'pg-temperature', type: 'number', min: 0, max: 2, step: 'any', value: '0.7' });
  const topP = h('input', { id: 'pg-top_p', type: 'number', min: 0, max: 1, step: 'any', value: '1' });
  const maxTokens = h('input', { id: 'pg-max_tokens', type: 'number', min: 1, max: 4096, step: 1, value: '64' });
  const seed = h('input', { id: 'pg-seed', type: 'number', step: 1, placeholder: 'random' });
  const stop = h('textarea', { id: 'pg-stop', rows: 2, placeholder: 'one a line, e.g. \\n\\n', 'aria-describedby': 'pg-stop-hint' });
  const message = h('textarea', { id: 'pg-message', rows: 3, placeholder: 'Write a message; Ctrl+Enter sends it', 'aria-label': 'Message' });
  const send = h('button', { type: 'submit', id: 'pg-send' }, 'Send to all');
  const stopBtn = h('button', { type: 'button', class: 'secondary', id: 'pg-stop-generation', disabled: true, onclick: () => abortAll() }, 'Stop');
  const clear = h('button', { type: 'button', class: 'secondary', id: 'pg-clear', onclick: () => { abortAll(); panes.forEach(resetPane); } }, 'Clear');
  const formError = h('div', { id: 'pg-form-error' });
  const panesEl = h('div', { id: 'pg-panes', class: 'panes' });

  let models: Served[] = [];
  const chatTemplate = new Map<string, boolean>();

  function adaptersOf(base: Served | undefined): Served[] {
    if (!base) return [];
    return models.filter((m) => m.kind === 'adapter' && (m.parent === base.id || (base.name != null && m.parent === base.name)));
  }

  function chosenBase(): Served | undefined {
    return models.find((m) => m.kind === 'base' && m.id === baseSelect.value);
  }

  function chosenAdapters(): Served[] {
    const ids = new Set(Array.from(adapterBox.querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked')).map((c) => c.value));
    return adaptersOf(chosenBase()).filter((a) => ids.has(a.id));
  }

  function renderAdapterPicks(checked: Set<string>): void {
    const list = adaptersOf(chosenBase());
    replace(adapterBox, h('legend', {}, `Adapters (up to ${MAX_ADAPTERS})`),
      list.length === 0
        ? h('p', { class: 'empty' }, 'No adapters trained on this model yet: chat with the base model alone, or train one (task sft).')
        : h('ul', { class: 'picks' }, list.map((a) => h('li', {},
          h('label', {},
            h('input', { type: 'checkbox', value: a.id, 'data-adapter': a.id, checked: checked.has(a.id), onchange: onPickChange }),
            ' ', label(a), ' ', h('code', {}, a.id)),
          ' ', h('a', { href: `#/adapters/${encodeURIComponent(a.id)}`, title: 'lineage and metrics' }, 'details')))));
    limitPicks();
  }

  function limitPicks(): void {
    const boxes = Array.from(adapterBox.querySelectorAll<HTMLInputElement>('input[type=checkbox]'));
    const full = boxes.filter((b) => b.checked).length >= MAX_ADAPTERS;
    boxes.forEach((b) => { b.disabled = full && !b.checked; });
  }

  function onPickChange(): void {
    limitPicks();
    rebuildPanes();
  }

  function updateModeHint(): void {
    const base = chosenBase();
    const has = base ? chatTemplate.get(base.id) : undefined;
    if (has === false) {
      mode.value = 'completion';
      modeHint.textContent = 'This model has no chat template, so chat requests would be refused: messages are sent as raw prompts.';
    } else {
      modeHint.textContent = has ? 'The model has a chat template: each pane sends its whole conversation.' : '';
    }
  }

  function onBaseChange(): void {
    renderAdapterPicks(new Set());
    updateModeHint();
    rebuildPanes();
    history.replaceState(null, '', `#/playground?base=${encodeURIComponent(baseSelect.value)}`);
  }

  function resetPane(p: Pane): void {
    p.history = [];
    replace(p.transcript, h('li', { class: 'muted empty-pane' }, 'No messages yet.'));
    p.status.textContent = '';
  }

  function rebuildPanes(): void {
    abortAll();
    const base = chosenBase();
    if (!base) {
      replace(panesEl);
      panes = [];
      return;
    }
    const chosen = [base, ...chosenAdapters()];
    panes = chosen.map((m, i) => {
      const transcript = h('ol', { class: 'transcript', 'aria-label': `conversation with ${label(m)}` });
      const status = h('p', { class: 'pane-status muted', role: 'status' });
      const el = h('section', { class: 'pane', 'data-model': m.id, 'data-kind': m.kind, 'aria-labelledby': `pane-title-${i}` },
        h('h2', { id: `pane-title-${i}` }, label(m)),
        m.kind === 'adapter' ? h('p', { class: 'muted pane-sub' }, h('a', { href: `#/adapters/${encodeURIComponent(m.id)}` }, m.id)) : h('p', { class: 'muted pane-sub' }, 'no adapter'),
        transcript, status);
      const p: Pane = { model: m, history: [], el, transcript, status, controller: null };
      resetPane(p);
      return p;
    });
    replace(panesEl, panes.map((p) => p.el));
    panesEl.style.setProperty('--panes', String(panes.length));
  }

  function abortAll(): void {
    panes.forEach((p) => p.controller?.abort());
  }

  function readSettings(): Record<string, unknown> | null {
    const out: Record<string, unknown> = {};
    const problems: string[] = [];
    const t = Number(temperature.value);
    if (temperature.value === '' || !(t >= 0 && t <= 2)) problems.push('temperature must be between 0 and 2');
    else out.temperature = t;
    const p = Number(topP.value);
    if (topP.value === '' || !(p > 0 && p <= 1)) problems.push('top_p must be in (0, 1]');
    else out.top_p = p;
    const mt = Number(maxTokens.value);
    if (!Number.isInteger(mt) || mt < 1) problems.push('max_tokens must be a whole number ≥ 1');
    else out.max_tokens = mt;
    if (seed.value !== '') {
      const s = Number(seed.value);
      if (!Number.isInteger(s)) problems.push('seed must be a whole number');
      else out.seed = s;
    }
    const stops = parseStops(stop.value);
    if (stops.length > 4) problems.push('at most 4 stop sequences');
    else if (stops.length > 0) out.stop = stops;
    if (problems.length > 0) {
      replace(formError, h('div', { class: 'error', role: 'alert' }, h('ul', {}, problems.map((x) => h('li', {}, x)))));
      return null;
    }
    replace(formError);
    return out;
  }

  async function ask(p: Pane, text: string, settings: Record<string, unknown>, chat: boolean): Promise<void> {
    if (p.transcript.querySelector('.empty-pane')) replace(p.transcript);
    p.history.push({ role: 'user', content: text });
    p.transcript.append(h('li', { class: 'msg user' }, h('span', { class: 'who' }, 'You'), h('div', { class: 'text' }, text)));
    const out = h('div', { class: 'text' });
    const item = h('li', { class: 'msg assistant', 'data-streaming': 'true', 'data-chunks': '0' }, h('span', { class: 'who' }, 'Assistant'), out);
    p.transcript.append(item);
    p.status.textContent = 'waiting for the first token…';
    const controller = new AbortController();
    p.controller = controller;
    const started = performance.now();
    let first = 0;
    let chunks = 0;
    let finish: string | null = null;
    let usage: any = null;
    let answer = '';
    const req: Record<string, unknown> = { model: p.model.id, stream: true, stream_options: { include_usage: true }, ...settings };
    if (chat) req.messages = p.history.map((t) => ({ role: t.role, content: t.content }));
    else req.prompt = text;
    try {
      await streamOpenAi(chat ? CHAT_COMPLETIONS : COMPLETIONS, req, (c) => {
        if (c.usage) usage = c.usage;
        const choice = c.choices?.[0];
        if (!choice) return;
        const piece: string = chat ? (choice.delta?.content ?? '') : (choice.text ?? '');
        if (piece) {
          if (!first) first = performance.now();
          answer += piece;
          out.textContent = answer;
          chunks++;
          item.setAttribute('data-chunks', String(chunks));
          p.status.textContent = `streaming… ${chunks} chunk(s)`;
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }, controller.signal);
      const secs = (performance.now() - started) / 1000;
      const tokens = usage?.completion_tokens;
      p.status.textContent = [
        `finish_reason: ${finish ?? '–'}`,
        typeof tokens === 'number' ? `${tokens} token(s)` : `${chunks} chunk(s)`,
        first ? `first token after ${((first - started) / 1000).toFixed(2)} s` : 'no text',
        typeof tokens === 'number' && secs > 0 ? `${(tokens / secs).toFixed(1)} tokens/s` : null,
        usage ? `prompt ${usage.prompt_tokens} tokens` : null,
      ].filter(Boolean).join(' · ');
      item.setAttribute('data-finish', finish ?? '');
      if (!answer) out.append(h('span', { class: 'muted' }, '(no text)'));
    } catch (e) {
      if (controller.signal.aborted) {
        p.status.textContent = `stopped after ${chunks} chunk(s)`;
      } else {
        const msg = e instanceof ApiError && e.status === 400 && /chat template/i.test(e.message)
          ? `${e.message} — switch the mode to completion.` : null;
        item.append(msg ? h('p', { class: 'error', role: 'alert' }, msg) : errorBox(e, label(p.model)));
        p.status.textContent = 'failed';
        item.setAttribute('data-error', 'true');
      }
    } finally {
      p.history.push({ role: 'assistant', content: answer });
      item.setAttribute('data-streaming', 'false');
      p.controller = null;
    }
  }

  async function submit(ev?: Event): Promise<void> {
    ev?.preventDefault();
    const text = message.value.trim();
    if (!text || panes.length === 0) return;
    const settings = readSettings();
    if (!settings) return;
    message.value = '';
    send.disabled = true;
    stopBtn.disabled = false;
    const chat = mode.value === 'chat';
    // all panes at once: eval-service batches requests that arrive together, whatever adapter each names
    await Promise.all(panes.map((p) => ask(p, text, settings, chat)));
    if (!disposed) {
      send.disabled = false;
      stopBtn.disabled = true;
      message.focus();
    }
  }

  message.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) void submit(ev);
  });
  baseSelect.addEventListener('change', onBaseChange);
  mode.addEventListener('change', () => { modeHint.textContent = ''; });

  void (async () => {
    try {
      const list = await getJson(SERVED_MODELS);
      models = list.data ?? [];
    } catch (e) {
      replace(body, errorBox(e, 'The servable models (eval-service)'));
      return;
    }
    try {
      const store = await listAll(MODELS);
      for (const m of store.data ?? []) {
        const has = Boolean(m.chat_template ?? m.annotations?.chat_template);
        chatTemplate.set(m.id, has);
      }
    } catch {
      // without artifact-store's annotations the mode stays as chosen; eval-service still answers a clear 400
    }
    const bases = models.filter((m) => m.kind === 'base');
    if (bases.length === 0) {
      replace(body, h('p', { class: 'empty', id: 'pg-no-models' },
        'No decoder model to chat with: register a decoder (gpt2 or llama family) on the Models page, or train an sft adapter.'));
      return;
    }
    replace(baseSelect, bases.map((b) => h('option', { value: b.id }, label(b))));
    const fromAdapter = models.find((m) => m.kind === 'adapter' && wantedAdapters.includes(m.id));
    const base = bases.find((b) => b.id === wantedBase || b.name === wantedBase)
      ?? (fromAdapter ? bases.find((b) => b.id === fromAdapter.parent || b.name === fromAdapter.parent) : undefined)
      ?? bases[0];
    baseSelect.value = base.id;
    renderAdapterPicks(new Set(wantedAdapters.slice(0, MAX_ADAPTERS)));
    const missing = wantedAdapters.filter((id) => !adaptersOf(base).some((a) => a.id === id));
    updateModeHint();
    rebuildPanes();
    replace(body,
      missing.length > 0 ? h('p', { class: 'notice', role: 'status' }, `Not servable on ${label(base)}: ${missing.join(', ')}.`) : null,
      h('form', { class: 'card playground-settings', novalidate: true, onsubmit: (ev: Event) => void submit(ev) },
        h('div', { class: 'fields' },
          h('div', { class: 'field' }, h('label', { for: 'pg-base' }, 'Base model'), baseSelect),
          h('div', { class: 'field' }, h('label', { for: 'pg-mode' }, 'Mode'), mode, modeHint),
          h('div', { class: 'field' }, h('label', { for: 'pg-temperature' }, 'temperature'), temperature, h('small', { class: 'hint' }, '0 – 2; 0 is greedy')),
          h('div', { class: 'field' }, h('label', { for: 'pg-top_p' }, 'top_p'), topP, h('small', { class: 'hint' }, '(0, 1]')),
          h('div', { class: 'field' }, h('label', { for: 'pg-max_tokens' }, 'max_tokens'), maxTokens),
          h('div', { class: 'field' }, h('label', { for: 'pg-seed' }, 'seed'), seed, h('small', { class: 'hint' }, 'the same seed repeats a sampled answer')),
          h('div', { class: 'field' }, h('label', { for: 'pg-stop' }, 'stop'), stop, h('small', { class: 'hint', id: 'pg-stop-hint' }, 'up to 4, one a line; write \\n for a newline'))),
        adapterBox,
        formError,
        h('div', { class: 'field' }, message),
        h('div', { class: 'actions' }, send, stopBtn, clear)),
      panesEl);
  })();

  return {
    el: page('Playground', h('p', { class: 'muted' }, 'Chat with a base model and its adapters side by side. Answers stream from eval-service, which decodes the panes together in one batch.'), body),
    dispose: () => {
      disposed = true;
      abortAll();
    },
  };
}
