import { ApiError } from './api';

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** Creates an element: attributes (on* names become listeners, false/null/undefined are left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value as EventListener);
    } else if (name === 'class') {
      el.className = String(value);
    } else if (name === 'value' && 'value' in el) {
      (el as HTMLInputElement).value = String(value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function page(title: string, ...children: Child[]): HTMLElement {
  document.title = `${title} · PEFT Foundry`;
  return h('section', { 'aria-labelledby': 'page-title' }, h('h1', { id: 'page-title' }, title), ...children);
}

/** An honest message for a call that failed: not available (service down / endpoint missing) or the error itself. */
export function errorBox(e: unknown, what: string): HTMLElement {
  if (e instanceof ApiError) {
    if (e.unavailable) {
      return h('p', { class: 'notice', role: 'status' }, `${what} is not available right now: ${e.message}`);
    }
    if (e.status === 401) {
      return h('p', { class: 'error', role: 'alert' }, `${what}: the API key was not accepted (401). Sign out and sign in with a valid key.`);
    }
    return h(
      'div',
      { class: 'error', role: 'alert' },
      h('p', {}, `${what}: ${e.message} (HTTP ${e.status})`),
      e.errors.length > 0 ? h('ul', {}, e.errors.map((f) => h('li', {}, problemLine(f)))) : null,
    );
  }
  return h('p', { class: 'error', role: 'alert' }, `${what}: ${(e as Error).message}`);
}

export function problemLine(f: { field?: string; line?: number; message: string }): string {
  const where = [f.line !== undefined ? `line ${f.line}` : '', f.field ?? ''].filter(Boolean).join(', ');
  return where ? `${where}: ${f.message}` : f.message;
}

export function toast(message: string): void {
  const t = document.getElementById('toast');
  if (!t) return;
  t.textContent = message;
  t.classList.add('show');
  setTimeout(() => t.classList.remove('show'), 3000);
}

/** Seconds since the epoch (OpenAI style) or an ISO string → Date. */
export function toDate(v: unknown): Date | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'number') return new Date(v < 1e12 ? v * 1000 : v);
  const d = new Date(String(v));
  return isNaN(d.getTime()) ? null : d;
}

export function age(v: unknown): string {
  const d = toDate(v);
  if (!d) return '–';
  return duration((Date.now() - d.getTime()) / 1000) + ' ago';
}

export function duration(seconds: number): string {
  if (!isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

export function bytes(n: unknown): string {
  if (typeof n !== 'number' || !isFinite(n)) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function num(v: unknown, digits = 4): string {
  if (typeof v !== 'number' || !isFinite(v)) return '–';
  if (Number.isInteger(v)) return v.toLocaleString('en');
  return Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toFixed(digits);
}

export function percent(v: unknown, digits = 1): string {
  return typeof v === 'number' && isFinite(v) ? `${v.toFixed(digits)} %` : '–';
}

/** The method of a job object: `method.type` (the spec) or a plain string. */
export function methodOf(job: any): string {
  const m = job?.method;
  if (typeof m === 'string') return m;
  return m?.type ?? 'lora';
}

export function statusBadge(status: string | undefined): HTMLElement {
  const s = status ?? 'unknown';
  return h('span', { class: `badge status-${s}` }, s.replace(/_/g, ' '));
}

export function table(headers: string[], rows: Child[][], caption?: string): HTMLTableElement {
  return h(
    'table',
    {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))),
  );
}

export function randomId(): string {
  // randomUUID needs a secure context (https or loopback); fall back to getRandomValues elsewhere
  const c: Crypto = crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
