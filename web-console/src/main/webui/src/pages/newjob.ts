import type { Page } from '../main';
import { ADAPTERS, ApiError, FILES, JOBS, JOB_SPEC_SCHEMA, MODELS, getJson, postJson, listAll } from '../api';
import { modelSummary } from './models';
import { errorBox, h, page, problemLine, randomId, replace, toast } from '../ui';
import { uploadForm } from './datasets';

interface Field {
  path: string; // e.g. hyperparameters.learning_rate
  schema: any;
  input: HTMLInputElement | HTMLSelectElement;
}

/** The JSON types of a schema node without "null". */
function types(s: any): string[] {
  const t = s.type ?? (s.enum ? 'enum' : 'string');
  return (Array.isArray(t) ? t : [t]).filter((x: string) => x !== 'null');
}

function rangeText(s: any): string {
  const parts: string[] = [];
  if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) parts.push(`≤ ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${s.exclusiveMaximum}`);
  return parts.join(', ');
}

function defaultText(s: any): string {
  if (!('default' in s)) return 'no default';
  const d = s.default;
  if (d === null) return 'default: none';
  return `default: ${Array.isArray(d) ? d.join(', ') : typeof d === 'object' ? JSON.stringify(d) : d}`;
}

/** One form control per schema property, prefilled with its default, with its default and range as the hint. */
function control(path: string, name: string, s: any): { row: HTMLElement; field: Field } {
  const id = `f-${path.replace(/[^a-z0-9]/gi, '-')}`;
  const t = types(s);
  let input: HTMLInputElement | HTMLSelectElement;
  const enumValues: any[] | undefined = s.enum?.filter((v: any) => v !== null);
  if (enumValues) {
    input = h('select', { id }, enumValues.map((v) => h('option', { value: String(v) }, String(v))));
    if (s.default !== undefined && s.default !== null) input.value = String(s.default);
  } else if (t.includes('boolean')) {
    input = h('input', { id, type: 'checkbox', checked: s.default === true });
  } else if (t.includes('integer') || t.includes('number')) {
    const min = s.minimum ?? s.exclusiveMinimum;
    const max = s.maximum ?? s.exclusiveMaximum;
    input = h('input', { id, type: 'number', min, max, step: t.includes('integer') ? 1 : 'any', inputmode: t.includes('integer') ? 'numeric' : 'decimal' });
    if (typeof s.default === 'number') input.value = String(s.default);
  } else if (t.includes('array')) {
    input = h('input', { id, type: 'text', placeholder: 'comma-separated' });
    if (Array.isArray(s.default)) input.value = s.default.join(', ');
  } else {
    input = h('input', { id, type: 'text', pattern: s.pattern ? s.pattern.replace(/^\^|\$$/g, '') : null, maxlength: s.maxLength });
    if (typeof s.default === 'string') input.value = s.default;
  }
  const hint = [defaultText(s), rangeText(s), s.description].filter(Boolean).join(' · ');
  const hintId = `${id}-hint`;
  input.setAttribute('aria-describedby', hintId);
  input.setAttribute('name', path);
  const row = h('div', { class: 'field' },
    h('label', { for: id }, name),
    input,
    h('small', { id: hintId, class: 'hint' }, hint),
    h('small', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' }));
  return { row, field: { path, schema: s, input } };
}

/** The value of a control, or undefined when empty (absent fields take the spec's defaults). */
function valueOf(f: Field): unknown {
  const t = types(f.schema);
  const input = f.input as HTMLInputElement;
  if (input.type === 'checkbox') return input.checked;
  const raw = input.value.trim();
  if (raw === '') return undefined;
  if (f.schema.enum) return raw;
  if (t.includes('integer') || t.includes('number')) return Number(raw);
  if (t.includes('array')) return raw.split(',').map((x) => x.trim()).filter(Boolean);
  return raw;
}

function setPath(target: any, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = target;
  for (const k of keys.slice(0, -1)) o = o[k] ??= {};
  o[keys[keys.length - 1]] = value;
}

/** New job: model, dataset (pick or upload), method and its hyperparameters, all driven by the job-spec JSON Schema. */
export function newJobPage(): Page {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading the job-spec schema…'));
  void (async () => {
    let schema: any;
    try {
      schema = await getJson(JOB_SPEC_SCHEMA);
    } catch (e) {
      replace(body, errorBox(e, 'The job-spec schema'));
      return;
    }
    replace(body, buildForm(schema));
  })();
  return { el: page('New job', body) };
}

function buildForm(schema: any): HTMLElement {
  const props = schema.properties;
  const methodProps = props.method.properties;
  const methodTypes: string[] = methodProps.type.enum.filter((v: any) => v !== null);

  // --- model and data
  const model = h('select', { id: 'f-model', required: true }, h('option', { value: '' }, 'Loading models…'));
  const task = control('task', 'task', props.task);
  const trainingFile = h('select', { id: 'f-training_file', required: true });
  const validationFile = h('select', { id: 'f-validation_file' });
  const initAdapter = h('select', { id: 'f-init_adapter', name: 'init_adapter' }, h('option', { value: '' }, 'none'));
  const dataMessage = h('div', { 'aria-live': 'polite' });
  const chatHint = h('small', { class: 'hint', id: 'f-chat-hint', 'aria-live': 'polite' });
  const modelsByName = new Map<string, any>();
  const filesById = new Map<string, any>();
  /** Chat data is rendered by the model's template: say so when the chosen pair cannot work. */
  function updateChatHint(): void {
    const m = modelsByName.get(model.value);
    const chats = [trainingFile.value, validationFile.value].map((id) => filesById.get(id)?.chat_examples ?? 0).reduce((x, y) => x + y, 0);
    chatHint.textContent = chats === 0 ? '' : m && m.chat_template === false
      ? `The chosen data holds ${chats} chat conversation(s) but ${model.value} has no chat template: job-api will refuse it.`
      : `${chats} chat conversation(s): rendered with ${model.value || 'the model'}'s chat template, loss on the assistant turns.`;
  }

  async function loadModels(): Promise<void> {
    try {
      const list = await listAll(MODELS);
      const models: any[] = list.data ?? [];
      models.forEach((m) => modelsByName.set(m.name ?? m.id, m));
      replace(model, models.length === 0 ? h('option', { value: '' }, 'no models registered') : models.map((m) => {
        const summary = modelSummary(m);
        return h('option', { value: m.name ?? m.id }, `${m.name ?? m.id}${summary ? ` (${summary})` : ''}`);
      }));
      updateChatHint();
    } catch (e) {
      replace(model, h('option', { value: '' }, 'models not available'));
      dataMessage.append(errorBox(e, 'The model list (artifact-store)'));
    }
  }
  async function loadFiles(select?: string): Promise<void> {
    try {
      const list = await listAll(FILES);
      const files: any[] = list.data ?? [];
      files.forEach((f) => filesById.set(f.id, f));
      const options = (empty: string) => [h('option', { value: '' }, empty),
        ...files.map((f) => h('option', { value: f.id }, `${f.filename ?? f.id} (${f.id}${f.task ? `, ${f.task}` : ''}${f.line_count ? `, ${f.line_count} lines` : ''}${f.chat_examples ? `, ${f.chat_examples} chat` : ''})`))];
      const keepV = validationFile.value;
      replace(trainingFile, options(files.length ? 'choose a dataset' : 'no datasets: upload one'));
      replace(validationFile, options('none'));
      if (select) trainingFile.value = select;
      validationFile.value = keepV;
    } catch (e) {
      replace(trainingFile, h('option', { value: '' }, 'datasets not available'));
      dataMessage.append(errorBox(e, 'The dataset list (artifact-store)'));
    }
  }
  async function loadAdapters(): Promise<void> {
    try {
      const list = await listAll(ADAPTERS);
      const adapters: any[] = list.data ?? [];
      replace(initAdapter, [h('option', { value: '' }, 'none'), ...adapters.map((a) => {
        const l = a.lineage ?? {};
        return h('option', { value: a.id }, `${a.name ?? a.id} (${[l.method, l.base_model, l.job_id].filter(Boolean).join(', ')})`);
      })]);
    } catch (e) {
      dataMessage.append(errorBox(e, 'The adapter list (artifact-store)'));
    }
  }
  void loadModels();
  void loadFiles();
  void loadAdapters();

  // --- method: a select, and the chosen method's block
  const methodType = h('select', { id: 'f-method-type' }, methodTypes.map((t) => h('option', { value: t }, t)));
  methodType.value = methodProps.type.default ?? 'lora';
  const methodBlock = h('div', { class: 'fields' });
  let methodFields: Field[] = [];
  function renderMethod(): void {
    const t = methodType.value;
    const block = methodProps[t];
    methodFields = [];
    if (!block) {
      replace(methodBlock, h('p', { class: 'muted' }, t === 'full' ? 'Every weight is trained: the full fine-tune baseline. No method parameters.' : 'No parameters.'));
    } else {
      replace(methodBlock, Object.entries(block.properties).map(([name, s]) => {
        const c = control(`method.${t}.${name}`, name, s);
        methodFields.push(c.field);
        return c.row;
      }));
    }
    // the learning rate's default depends on the method; the schema says so in its description
    const lr = hyperFields.find((f) => f.path === 'hyperparameters.learning_rate');
    if (lr) (lr.input as HTMLInputElement).placeholder = `method default (${t})`;
    updateSpec();
  }

  // --- hyperparameters, seed, suffix
  const hyperFields: Field[] = [];
  const hyperRows = Object.entries(props.hyperparameters.properties).map(([name, s]) => {
    const c = control(`hyperparameters.${name}`, name, s);
    hyperFields.push(c.field);
    return c.row;
  });
  const seed = control('seed', 'seed', props.seed);
  const suffix = control('suffix', 'suffix', props.suffix);

  // --- the spec, shown and copyable
  const specView = h('pre', { id: 'spec-json', class: 'spec', tabindex: 0, 'aria-label': 'job spec JSON' });
  function spec(): any {
    const s: any = { model: model.value, task: valueOf(task.field), training_file: trainingFile.value };
    if (validationFile.value) s.validation_file = validationFile.value;
    if (initAdapter.value) s.init_adapter = initAdapter.value;
    s.method = { type: methodType.value };
    for (const f of [...methodFields, ...hyperFields, seed.field, suffix.field]) {
      const v = valueOf(f);
      if (v !== undefined) setPath(s, f.path, v);
    }
    return s;
  }
  function updateSpec(): void {
    specView.textContent = JSON.stringify(spec(), null, 2);
  }
  const copy = h('button', { type: 'button', class: 'secondary' }, 'Copy JSON');
  copy.addEventListener('click', async () => {
    const text = specView.textContent ?? '';
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const range = document.createRange();
      range.selectNodeContents(specView);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      document.execCommand('copy');
    }
    toast('Spec copied');
  });

  const result = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Submit job');
  let idempotencyKey = randomId();

  const form = h('form', {
    class: 'job-form',
    novalidate: true,
    oninput: () => {
      idempotencyKey = randomId(); // a changed spec is a new job
      updateSpec();
    },
    onchange: updateSpec,
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      form.querySelectorAll('.field-error').forEach((e) => (e.textContent = ''));
      form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
      if (!model.value || !trainingFile.value) {
        replace(result, h('p', { class: 'error', role: 'alert' }, 'Choose a model and a training dataset.'));
        return;
      }
      const bad = Array.from(form.querySelectorAll('input')).find((i) => !i.checkValidity());
      if (bad) {
        replace(result, h('p', { class: 'error', role: 'alert' }, `${bad.name}: ${bad.validationMessage}`));
        bad.setAttribute('aria-invalid', 'true');
        bad.focus();
        return;
      }
      submit.disabled = true;
      replace(result, h('p', { class: 'muted' }, 'Submitting…'));
      try {
        const job = await postJson(JOBS, spec(), { 'Idempotency-Key': idempotencyKey });
        toast(`Job ${job.id} submitted`);
        location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
      } catch (e) {
        if (e instanceof ApiError && e.errors.length > 0) {
          for (const fe of e.errors) {
            const input = form.querySelector<HTMLElement>(`[name="${CSS.escape(fe.field ?? '')}"]`) ?? (fe.field ? document.getElementById(`f-${fe.field}`) : null);
            if (input) {
              input.setAttribute('aria-invalid', 'true');
              const err = document.getElementById(`${input.id}-error`);
              if (err) err.textContent = fe.message;
            }
          }
          replace(result, h('div', { class: 'error', role: 'alert' }, h('p', {}, e.message), h('ul', {}, e.errors.map((x) => h('li', {}, problemLine(x))))));
        } else {
          replace(result, errorBox(e, 'Submitting the job (job-api)'));
        }
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('fieldset', {}, h('legend', {}, 'Model and data'),
    h('div', { class: 'fields' },
      h('div', { class: 'field' }, h('label', { for: 'f-model' }, 'model'), model, h('small', { class: 'hint' }, 'backbone from artifact-store')),
      task.row,
      h('div', { class: 'field' }, h('label', { for: 'f-training_file' }, 'training_file'), trainingFile, h('small', { class: 'field-error', id: 'f-training_file-error' })),
      h('div', { class: 'field' }, h('label', { for: 'f-validation_file' }, 'validation_file'), validationFile, h('small', { class: 'hint' }, 'optional; needed for early stopping')),
      h('div', { class: 'field' }, h('label', { for: 'f-init_adapter' }, 'init_adapter'), initAdapter,
        h('small', { class: 'hint' }, 'optional: continue training an earlier adapter of the same method (two-stage recipe)'),
        h('small', { class: 'field-error', id: 'f-init_adapter-error' }))),
    h('p', {}, chatHint),
    dataMessage,
    h('details', {}, h('summary', {}, 'Upload a new dataset'),
      uploadForm('nj', () => String(valueOf(task.field) ?? ''), (f) => void loadFiles(f.id).then(updateSpec)))),
  h('fieldset', {}, h('legend', {}, 'Method'),
    h('div', { class: 'field' }, h('label', { for: 'f-method-type' }, 'method.type'), methodType),
    methodBlock),
  h('fieldset', {}, h('legend', {}, 'Hyperparameters'), h('div', { class: 'fields' }, hyperRows, seed.row, suffix.row)),
  h('div', { class: 'actions' }, submit),
  result,
  h('section', { 'aria-labelledby': 'spec-title' },
    h('h2', { id: 'spec-title' }, 'Spec JSON ', copy),
    h('p', { class: 'muted' }, 'The same JSON works with ', h('code', {}, 'POST /v1/fine_tuning/jobs'), ' on job-api.'),
    specView));

  methodType.addEventListener('change', renderMethod);
  model.addEventListener('change', updateSpec);
  for (const sel of [model, trainingFile, validationFile]) sel.addEventListener('change', updateChatHint);
  renderMethod();
  return form;
}
