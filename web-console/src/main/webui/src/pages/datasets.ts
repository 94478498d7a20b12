import type { Page } from '../main';
import { ApiError, FILES, postForm, listAll } from '../api';
import { age, bytes, errorBox, h, num, page, problemLine, replace, table, toast } from '../ui';

/**
 * A dataset upload form. artifact-store validates the file line by line before storing anything; its faults are
 * listed with their line numbers. Calls onUploaded with the file object.
 */
export function uploadForm(idPrefix: string, defaultTask: () => string, onUploaded: (file: any) => void): HTMLElement {
  const file = h('input', { id: `${idPrefix}-file`, type: 'file', accept: '.jsonl,.json,.txt,text/plain,application/jsonl', required: true });
  const purpose = h('select', { id: `${idPrefix}-purpose` }, h('option', { value: 'fine-tune' }, 'fine-tune'), h('option', { value: 'eval' }, 'eval'));
  const task = h('select', { id: `${idPrefix}-task` },
    h('option', { value: '' }, 'infer from the file'),
    ['classification', 'sft', 'continued_pretraining'].map((t) => h('option', { value: t }, t)));
  task.value = defaultTask();
  const result = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'secondary' }, 'Upload');
  button.addEventListener('click', async () => {
    const f = file.files?.[0];
    if (!f) {
      replace(result, h('p', { class: 'error', role: 'alert' }, 'Choose a file first.'));
      file.focus();
      return;
    }
    const form = new FormData();
    form.append('purpose', purpose.value);
    if (task.value) form.append('task', task.value);
    form.append('file', f, f.name);
    button.disabled = true;
    replace(result, h('p', { class: 'muted' }, `Uploading ${f.name} (${bytes(f.size)})…`));
    try {
      const stored = await postForm(FILES, form);
      replace(result, h('p', { class: 'ok' }, `Stored ${stored.filename ?? f.name} as `, h('code', {}, stored.id),
        ` — ${num(stored.line_count)} lines${stored.chat_examples ? ` (${num(stored.chat_examples)} chat conversations)` : ''}${stored.labels ? `, labels: ${stored.labels.join(', ')}` : ''}.`));
      toast(`Uploaded ${stored.id}`);
      onUploaded(stored);
    } catch (e) {
      if (e instanceof ApiError && e.errors.length > 0) {
        replace(result, h('div', { class: 'error', role: 'alert' },
          h('p', {}, e.message),
          h('ul', { class: 'line-errors' }, e.errors.map((x) => h('li', {}, problemLine(x))))));
      } else {
        replace(result, errorBox(e, 'Upload'));
      }
    } finally {
      button.disabled = false;
    }
  });
  return h('fieldset', { class: 'upload' },
    h('legend', {}, 'Upload a dataset (JSONL)'),
    h('div', { class: 'grid' },
      h('label', { for: `${idPrefix}-file` }, 'File'), file,
      h('label', { for: `${idPrefix}-purpose` }, 'Purpose'), purpose,
      h('label', { for: `${idPrefix}-task` }, 'Task'), task),
    h('div', { class: 'actions' }, button),
    result);
}

/** The tenant's datasets in artifact-store, and an upload form. */
export function datasetsPage(): Page {
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  async function load(): Promise<void> {
    try {
      const list = await listAll(FILES);
      const files: any[] = list.data ?? [];
      if (files.length === 0) {
        replace(body, h('p', { class: 'empty' }, 'No datasets yet: upload one above.'));
        return;
      }
      replace(body, table(
        ['File', 'Id', 'Purpose', 'Task', 'Lines', 'Labels', 'Size', 'Uploaded'],
        files.map((f) => [
          f.filename ?? '–',
          h('code', {}, f.id),
          f.purpose ?? '–',
          f.task ? `${f.task}${f.chat_examples ? ` (${num(f.chat_examples)} chat)` : ''}` : '–',
          num(f.line_count),
          Array.isArray(f.labels) ? (f.labels.length > 6 ? `${f.labels.slice(0, 6).join(', ')} … (${f.labels.length})` : f.labels.join(', ')) : '–',
          bytes(f.bytes),
          age(f.created_at),
        ]),
        `${files.length} dataset(s)`,
      ));
    } catch (e) {
      replace(body, errorBox(e, 'The dataset list (artifact-store)'));
    }
  }
  void load();
  return { el: page('Datasets', uploadForm('ds', () => '', () => void load()), body) };
}
