// Calls to the platform services through the console's proxy: /api/jobs → job-api, /api/artifacts → artifact-store,
// /api/evals → eval-service. Every request carries the API key kept in sessionStorage.

const KEY = 'foundry.apiKey';
const TENANT = 'foundry.tenant';

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function tenant(): string | null {
  return sessionStorage.getItem(TENANT);
}

export function signIn(key: string, tenantName: string): void {
  sessionStorage.setItem(KEY, key);
  sessionStorage.setItem(TENANT, tenantName);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(TENANT);
}

export interface FieldProblem {
  field?: string;
  line?: number;
  message: string;
}

/** A failed call: the HTTP status and, when the service answered with problem+json, its detail and field errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldProblem[] = [],
    readonly body: unknown = null,
  ) {
    super(message);
  }

  /** 502/503/504 from the proxy, or 404 for an endpoint the service does not have (yet). */
  get unavailable(): boolean {
    return this.status === 502 || this.status === 503 || this.status === 504 || this.status === 0;
  }
}

function authHeaders(extra?: HeadersInit): Headers {
  const h = new Headers(extra);
  const key = apiKey();
  if (key) h.set('Authorization', `Bearer ${key}`);
  return h;
}

async function failure(res: Response): Promise<ApiError> {
  let body: any = null;
  const text = await res.text();
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  const detail =
    (body && typeof body === 'object' && (body.detail || body.title || body.message || body.error?.message)) ||
    (typeof body === 'string' && plainText(body).slice(0, 300)) ||
    res.statusText ||
    `HTTP ${res.status}`;
  const errors: FieldProblem[] = body && Array.isArray(body.errors) ? body.errors : [];
  return new ApiError(res.status, String(detail), errors, body);
}

/** An HTML error page (a service's 404 for a route it does not have yet) as one line of text. */
export function plainText(s: string): string {
  return s.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
}

export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers: authHeaders(init.headers) });
  } catch (e) {
    throw new ApiError(0, `the console did not answer: ${(e as Error).message}`);
  }
  if (!res.ok) throw await failure(res);
  return res;
}

export async function getJson<T = any>(path: string): Promise<T> {
  const res = await request(path, { headers: { Accept: 'application/json' } });
  return (await res.json()) as T;
}

/**
 * Every item of a cursor-paged list (the services answer at most 100 items a page: `{data, has_more, last_id}`), asked
 * 100 at a time with `after=last_id` while `has_more`, as the OpenAI clients do.
 */
export async function listAll<T = any>(path: string): Promise<{ object: 'list'; data: T[] }> {
  const data: T[] = [];
  let after: string | null = null;
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const page: any = await getJson(`${path}${sep}limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    data.push(...(page.data ?? []));
    if (!page.has_more || !page.last_id || page.last_id === after) return { object: 'list', data };
    after = page.last_id;
  }
}

export async function postJson<T = any>(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await request(path, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

export async function postForm<T = any>(path: string, form: FormData): Promise<T> {
  const res = await request(path, { method: 'POST', headers: { Accept: 'application/json' }, body: form });
  return (await res.json()) as T;
}

/** Fetches with the key and saves the body as a file (a plain link could not carry the Authorization header). */
export async function download(path: string, fileName: string): Promise<void> {
  const res = await request(path);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

/** Reads a server-sent-event body to its end, calling onMessage for every event that carries data. */
export async function readSse(body: ReadableStream<any>, onMessage: (m: SseMessage) => void): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let id: string | null = null;
  let event = 'message';
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let nl: number;
    while ((nl = buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(buffer[nl] === '\r' && buffer[nl + 1] === '\n' ? nl + 2 : nl + 1);
      if (line === '') {
        if (data.length > 0) onMessage({ id, event, data: data.join('\n') });
        id = null;
        event = 'message';
        data = [];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(val);
        else if (field === 'event') event = val;
        else if (field === 'id') id = val;
      }
    }
  }
}

/**
 * POSTs an OpenAI-style request with `stream: true` and hands every `data:` chunk (parsed JSON) to onChunk until
 * `data: [DONE]`. The proxy keeps a `text/event-stream` request open without an idle timeout. A refused request
 * (400/404 before streaming) throws ApiError with the service's message; an `{"error": …}` chunk mid-stream throws too.
 */
export async function streamOpenAi(path: string, body: unknown, onChunk: (chunk: any) => void, signal?: AbortSignal): Promise<void> {
  const res = await request(path, {
    method: 'POST',
    headers: { Accept: 'text/event-stream', 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.body) throw new ApiError(0, 'no stream body');
  let done = false;
  let failure = null as ApiError | null;
  await readSse(res.body, (m) => {
    if (done || failure) return;
    if (m.data === '[DONE]') {
      done = true;
      return;
    }
    const chunk = JSON.parse(m.data);
    if (chunk?.error) {
      failure = new ApiError(500, String(chunk.error.message ?? 'generation failed'), [], chunk);
      return;
    }
    onChunk(chunk);
  });
  if (failure) throw failure;
  if (!done) throw new ApiError(0, 'the stream ended before [DONE]');
}

/**
 * Follows a server-sent-event stream with fetch (EventSource cannot send an Authorization header). Reconnects after a
 * drop with Last-Event-ID, waiting a little longer each time (up to 10 s). Returns a function that stops it.
 */
export function followEvents(
  path: string,
  onMessage: (m: SseMessage) => void,
  onState: (state: 'open' | 'retrying' | 'closed', detail?: string) => void,
  lastEventId: string | null = null,
): () => void {
  const controller = new AbortController();
  let stopped = false;
  let lastId = lastEventId;
  let delay = 500;

  const run = async () => {
    while (!stopped) {
      try {
        const headers: Record<string, string> = { Accept: 'text/event-stream' };
        if (lastId) headers['Last-Event-ID'] = lastId;
        const res = await request(path, { headers, signal: controller.signal });
        if (!res.body) throw new Error('no stream body');
        onState('open');
        delay = 500;
        await readSse(res.body, (m) => {
          if (m.id !== null) lastId = m.id;
          onMessage(m);
        });
        if (stopped) break;
        onState('retrying', 'the stream ended');
      } catch (e) {
        if (stopped) break;
        const err = e as ApiError;
        // a job that does not exist or a key that is refused will not get better by retrying
        if (err instanceof ApiError && (err.status === 401 || err.status === 404)) {
          onState('closed', err.message);
          return;
        }
        onState('retrying', err.message);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
    onState('closed');
  };
  void run();
  return () => {
    stopped = true;
    controller.abort();
  };
}

export const JOBS = '/api/jobs/v1/fine_tuning/jobs';
export const SWEEPS = '/api/jobs/v1/sweeps';
export const WHOAMI = '/api/jobs/v1/auth/whoami';
export const MODELS = '/api/artifacts/v1/models';
export const FILES = '/api/artifacts/v1/files';
export const ADAPTERS = '/api/artifacts/v1/adapters';
export const COMPARISONS = '/api/evals/v1/comparisons';
export const LEADERBOARD = '/api/evals/v1/leaderboard';
export const EVALUATIONS = '/api/evals/v1/evaluations';
export const SERVED_MODELS = '/api/evals/v1/models';
export const CHAT_COMPLETIONS = '/api/evals/v1/chat/completions';
export const COMPLETIONS = '/api/evals/v1/completions';
export const JOB_SPEC_SCHEMA = '/api/schema/job-spec';
