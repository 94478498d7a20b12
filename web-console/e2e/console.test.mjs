// Browser tests of the web console against a running stack (./foundry up, or services started by hand).
// playwright-core drives Debian's chromium (no `npx playwright install`); screenshots land in E2E_SCREENSHOTS.
// Steps share one browser page and run in order: sign in (keyboard only) → models → submit a job through the form
// (a malformed dataset first: its faults are listed with line numbers) → watch it live over SSE → its comparison with
// the full fine-tune baseline → the dashboard → the playground (a base decoder and a two-stage adapter trained meanwhile,
// streamed side by side) → the adapter page (lineage, metrics, "Try it") → the two-stage recipe on the built-in
// demo-decoder (jobs submitted over the API): its comparison with the SFT-only run eval-service adds, and its mark on
// the dashboard. A step whose service is not there fails with what the page said.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const CONSOLE_URL = (process.env.CONSOLE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const SHOTS = resolve(process.env.E2E_SCREENSHOTS ?? join(here, '../target/e2e-screenshots'));
const DATASET = resolve(process.env.E2E_DATASET ?? join(root, 'data/fortunes/smoke/train.jsonl'));
const VALIDATION = resolve(process.env.E2E_VALIDATION ?? join(root, 'data/fortunes/smoke/validation.jsonl'));
// line 2 has no label, line 4 is cut off mid-object: artifact-store must name exactly these two lines
const MALFORMED = join(here, 'fixtures/malformed.jsonl');
const MODEL = process.env.E2E_MODEL ?? 'all-minilm-l6-v2';
const MAX_STEPS = process.env.E2E_MAX_STEPS ?? '12';
const JOB_TIMEOUT_MS = 1000 * Number(process.env.E2E_JOB_TIMEOUT_S ?? 900);
const COMPARISON_TIMEOUT_MS = 1000 * Number(process.env.E2E_COMPARISON_TIMEOUT_S ?? 600);
// 1 (default): the comparison step fails unless the real adapter-vs-baseline comparison arrives within the bounded wait.
// 0: a clearly shown "baseline pending" / "baseline failed" state is also accepted at the deadline (for a stack whose
// automatic full baseline cannot complete, e.g. an older eval-service/artifact-store).
const REQUIRE_COMPARISON = (process.env.E2E_REQUIRE_COMPARISON ?? '1') === '1';
// the playground steps: the demo decoder (demo/decoder/pretrained) registered with a role-prefixed chat template, and a
// two-stage adapter trained on it by the platform (continued pretraining, then SFT with init_adapter), E2E_SERVING_STEPS each
const SERVING_STEPS = Number(process.env.E2E_SERVING_STEPS ?? 6);
const DECODER_DIR = join(root, 'demo/decoder/pretrained');
const CHAT_TEMPLATE = "{% for m in messages %}{{ m['role'] | capitalize }}: {{ m['content'] }}\n{% endfor %}"
  + '{% if add_generation_prompt %}Assistant:{% endif %}';
// the two-stage step: the decoder built into artifact-store, and steps per stage (a few: the decoder is 1.3M parameters)
const DECODER = process.env.E2E_DECODER ?? 'demo-decoder';
const TWO_STAGE_STEPS = Number(process.env.E2E_TWO_STAGE_STEPS ?? 4);
const TWO_STAGE_TIMEOUT_MS = 1000 * Number(process.env.E2E_TWO_STAGE_TIMEOUT_S ?? 2700);
const CHROMIUM = process.env.CHROMIUM ?? (existsSync('/usr/lib/chromium/chromium') ? '/usr/lib/chromium/chromium' : '/usr/bin/chromium');

function apiKey() {
  if (process.env.FOUNDRY_API_KEY) return process.env.FOUNDRY_API_KEY.trim();
  const file = join(root, '.foundry/admin-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new Error('set FOUNDRY_API_KEY (or run ./foundry up, which writes .foundry/admin-key)');
}

let context;
let page;
let profile;
let jobId = null;

async function shot(name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** The page's own error or notice text, to say why a step failed. */
async function pageProblems() {
  const texts = await page.locator('.error, .notice').allInnerTexts();
  return texts.join(' | ') || '(no error shown)';
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), 'foundry-e2e-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  // the playground's model and adapter train while the other steps run (a failure is reported by the playground steps)
  serving = setUpServing();
  serving.catch(() => {});
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});


let trainingFileId = null;

/** Uploads one file through the new-job form's upload box; resolves to the result element's text and whether it was stored. */
async function uploadInForm(file) {
  await page.locator('#nj-file').setInputFiles(file);
  await page.locator('#nj-task').selectOption('classification');
  const result = page.locator('fieldset.upload [aria-live]');
  await page.locator('fieldset.upload').getByRole('button', { name: 'Upload' }).click();
  await result.locator('.ok, .error, .notice').first().waitFor();
  const ok = (await result.locator('.ok').count()) > 0;
  return { ok, text: await result.innerText() };
}

test('sign in with an API key, keyboard only (job-api whoami names the tenant)', async () => {
  await page.goto(`${CONSOLE_URL}/`);
  await page.waitForURL(/#\/signin$/);
  // the key field has focus on arrival; typing and Enter submit the form
  await page.waitForFunction(() => document.activeElement?.id === 'api-key');
  assert.equal(await page.getByLabel('API key').evaluate((el) => el === document.activeElement), true);
  await page.keyboard.type(apiKey());
  await shot('01-sign-in');
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/jobs$/, { timeout: 15_000 }).catch(async () => {
    const problems = await pageProblems();
    // job-api could not check the key: go on unverified so the later steps can still run, but fail this one
    const unverified = page.getByRole('button', { name: 'Continue with an unverified key' });
    if (await unverified.count()) await unverified.click();
    assert.fail(`sign-in did not reach the job list: ${problems}`);
  });
  const tenant = await page.locator('.tenant').innerText();
  assert.match(tenant, /^tenant: (?!unverified)/);
  await page.locator('#main table, #main .empty').first().waitFor();
  // the skip link moves focus to the page's content without leaving the page ("#main" is not a route)
  await page.locator('a.skip').focus();
  await page.keyboard.press('Enter');
  assert.match(page.url(), /#\/jobs$/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
  assert.equal(await page.locator('#page-title').innerText(), 'Jobs');
  await shot('02-jobs');
});

test('the models list comes from artifact-store', async () => {
  await page.getByRole('link', { name: 'Models' }).click();
  await page.locator('#main table tbody tr, #main .error, #main .notice').first().waitFor();
  const rows = await page.locator('#main table tbody tr').count();
  assert.ok(rows > 0, `no models listed: ${await pageProblems()}`);
  assert.ok((await page.locator('#main table').innerText()).includes(MODEL), `${MODEL} is not listed`);
  await shot('03-models');
});

test('a malformed dataset uploaded in the form is refused with its faulty line numbers', async () => {
  await page.getByRole('link', { name: 'New job' }).click();
  await page.locator('#f-method-type').waitFor();
  // the upload box opens from the keyboard (summary is focusable; Enter toggles it)
  await page.locator('details summary', { hasText: 'Upload a new dataset' }).focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('details:has(#nj-file)').evaluate((d) => d.open), true);
  const { ok, text } = await uploadInForm(MALFORMED);
  assert.equal(ok, false, `the malformed file was stored: ${text}`);
  const faults = await page.locator('fieldset.upload .line-errors li').allInnerTexts();
  assert.equal(faults.length, 2, `faults listed: ${faults.join(' | ')}`);
  assert.match(faults[0], /^line 2, label: /);
  assert.match(faults[1], /^line 4: invalid JSON/);
  assert.equal(await page.locator('fieldset.upload [role=alert]').count(), 1);
  await shot('04-upload-refused');
});

test('submit a job through the form (datasets uploaded there)', async () => {
  // validation set first, picked as validation_file; then the training set, which the form selects itself
  const validation = await uploadInForm(VALIDATION);
  assert.ok(validation.ok, `validation upload failed: ${validation.text}`);
  const validationId = validation.text.match(/file-[A-Za-z0-9]+/)?.[0];
  assert.ok(validationId, `no file id in "${validation.text}"`);
  await page.locator('#f-validation_file').selectOption(validationId);
  const training = await uploadInForm(DATASET);
  assert.ok(training.ok, `training upload failed: ${training.text}`);
  trainingFileId = training.text.match(/file-[A-Za-z0-9]+/)?.[0];
  assert.ok(trainingFileId, `no file id in "${training.text}"`);
  assert.equal(await page.locator('#f-training_file').inputValue(), trainingFileId);
  assert.equal(await page.locator('#f-validation_file').inputValue(), validationId);

  await page.locator('#f-model').selectOption(MODEL);
  await page.locator('#f-method-type').selectOption('lora');
  await page.getByLabel('r', { exact: true }).fill('4');
  await page.getByLabel('epochs', { exact: true }).fill('1');
  await page.getByLabel('batch_size', { exact: true }).fill('8');
  await page.getByLabel('max_steps', { exact: true }).fill(MAX_STEPS);
  await page.getByLabel('eval_every_steps', { exact: true }).fill('0');
  await page.getByLabel('checkpoint_every_steps', { exact: true }).fill('10');
  const spec = JSON.parse(await page.locator('#spec-json').innerText());
  assert.equal(spec.model, MODEL);
  assert.equal(spec.training_file, trainingFileId);
  assert.equal(spec.validation_file, validationId);
  assert.equal(spec.method.type, 'lora');
  assert.equal(spec.method.lora.r, 4);
  assert.equal(spec.hyperparameters.max_steps, Number(MAX_STEPS));
  await shot('05-new-job');

  await page.getByRole('button', { name: 'Submit job' }).click();
  await page.waitForURL(/#\/jobs\/(?!new$)[^/]+$/, { timeout: 20_000 }).catch(async () => {
    assert.fail(`the job was not accepted: ${await pageProblems()}`);
  });
  jobId = decodeURIComponent(page.url().split('#/jobs/')[1]);
  assert.ok(jobId);
});

test('watch the job progress live (SSE): progress bar, loss curve, events, success', async () => {
  assert.ok(jobId, 'no job was submitted');
  await page.locator('#stream-state', { hasText: 'live' }).waitFor({ timeout: 30_000 });
  // a metrics event arrives over the stream (not from the history list) and moves the progress bar and the curve
  await page.locator('#event-log li[data-source=live] .event-type', { hasText: 'metrics' }).first().waitFor({ timeout: JOB_TIMEOUT_MS });
  await page.waitForFunction(() => Number(document.getElementById('loss-chart')?.dataset.points) > 0);
  const value = Number(await page.locator('#job-progress').getAttribute('value'));
  assert.ok(value > 0 && value <= 100, `progress is ${value}`);
  assert.match(await page.locator('#loss-chart').getAttribute('aria-label'), /^training loss by step: \d+ points?, latest [\d.]+ at step \d+$/);
  assert.match(await page.locator('#job-progress-text').innerText(), /step \d+ of \d+/);
  // nothing on the page failed (the event history, checkpoints, the job itself)
  assert.equal(await page.locator('#main [role=alert]').count(), 0, await pageProblems());
  // for the screenshot, a few more live points if the run is still going (not an assertion)
  await page.waitForFunction(() => Number(document.getElementById('loss-chart')?.dataset.points) >= 4
    || /succeeded|failed|cancelled/.test(document.querySelector('#job-status')?.textContent ?? ''), null, { timeout: 120_000 }).catch(() => {});
  await shot('06-job-live');
  await page.locator('#job-status .badge', { hasText: /succeeded|failed|cancelled/ }).waitFor({ timeout: JOB_TIMEOUT_MS });
  assert.equal(await page.locator('#job-status .badge').innerText(), 'succeeded', await pageProblems());
  assert.equal(Number(await page.locator('#job-progress').getAttribute('value')), 100);
  // every metrics event of the run is plotted: one loss point per step reported, ending at the last step
  const points = Number(await page.locator('#loss-chart').getAttribute('data-points'));
  assert.ok(points > 0, 'no loss points plotted');
  const total = (await page.locator('#job-progress-text').innerText()).match(/step (\d+) of (\d+)/);
  assert.ok(total && total[1] === total[2], `progress text: ${await page.locator('#job-progress-text').innerText()}`);
  assert.ok(Number(total[2]) <= Number(MAX_STEPS), `total_steps ${total[2]} exceeds max_steps ${MAX_STEPS}`);
  // the worker always reports the last step, so the curve ends there
  assert.match(await page.locator('#loss-chart').getAttribute('aria-label'), new RegExp(`at step ${total[2]}$`));
  await page.getByRole('button', { name: /Download adapter/ }).waitFor();
  // job-api ends the stream after the terminal status: the page stops instead of reconnecting forever
  await page.locator('#stream-state', { hasText: 'stream ended: the job succeeded' }).waitFor();
  assert.equal(await page.locator('#main [role=alert]').count(), 0, await pageProblems());
  await shot('07-job-succeeded');
});

test('open its comparison with the full fine-tune baseline', async () => {
  assert.ok(jobId, 'no job was submitted');
  // the link on the job page, from the keyboard
  await page.getByRole('link', { name: 'Comparison' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/comparison$/);
  const deadline = Date.now() + COMPARISON_TIMEOUT_MS;
  let state = 'none';
  for (;;) {
    await page.locator('#main table, #main .empty, #main .error, #main .notice').first().waitFor();
    if (await page.locator('#main table caption', { hasText: 'Adapter vs baseline' }).count()) { state = 'compared'; break; }
    state = (await page.locator('#baseline-state, #evaluation-state').first().getAttribute('data-state').catch(() => null)) ?? 'unknown';
    // a failed baseline will not turn into a comparison: stop waiting once the adapter's own evaluation is done
    const evaluated = /succeeded|failed/.test(await page.locator('#evaluation-status').innerText().catch(() => ''));
    if ((state === 'failed' && evaluated) || Date.now() > deadline) break;
    await page.waitForTimeout(10_000);
    await page.reload();
  }
  await shot('08-comparison');
  const text = await page.locator('#main').innerText();
  if (state === 'compared') {
    const metrics = await page.locator('#main table').first().innerText();
    assert.match(metrics, /accuracy/);
    assert.match(await page.locator('#trainable-percent').innerText(), /^\d+\.\d{3} %$/);
    return;
  }
  if (REQUIRE_COMPARISON) assert.fail(`no comparison (${state}) after ${COMPARISON_TIMEOUT_MS / 1000} s: ${text}`);
  // not required yet: the page must at least say clearly that the baseline is pending or failed, with the adapter's own score
  assert.ok(['pending', 'failed'].includes(state), `the comparison page shows neither a comparison nor a baseline state (${state}): ${text}`);
  assert.match(text, state === 'failed' ? /Baseline failed/ : /Baseline pending/);
  assert.match(await page.locator('#main table').first().innerText(), /accuracy/);
  console.log(`# comparison not available: baseline ${state} (accepted while E2E_REQUIRE_COMPARISON=0)`);
});

test('the dashboard shows the leaderboard for the model and dataset', async () => {
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.locator('#dash-dataset option').first().waitFor({ state: 'attached' });
  await page.locator('#dash-model').selectOption(MODEL);
  if (trainingFileId) await page.locator('#dash-dataset').selectOption(trainingFileId);
  const board = page.locator('#main table:has(caption:text("Leaderboard"))');
  await board.waitFor({ timeout: 15_000 }).catch(async () => assert.fail(`no leaderboard: ${await page.locator('#main').innerText()}`));
  if (jobId) {
    // our adapter is ranked, with its trainable fraction (LoRA r=4 on query/value: well under 1 % of MiniLM)
    const row = board.locator('tbody tr', { hasText: jobId });
    await row.waitFor({ timeout: 15_000 }).catch(async () => assert.fail(`${jobId} is not on the leaderboard: ${await board.innerText()}`));
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[2], 'lora');
    assert.ok(Number(cells[3]) >= 0 && Number(cells[3]) <= 1, `score ${cells[3]}`);
    const trainable = Number(cells[5].replace(' %', ''));
    assert.ok(trainable > 0 && trainable < 1, `trainable ${cells[5]}`);
  }
  await page.waitForTimeout(500); // the scatter chart draws without animation; let it paint
  await shot('09-dashboard');
});

// ---- playground and adapter page -------------------------------------------------------------------------------

let serving = null;

/** A call through the console's proxy with the key, as the pages make it. */
async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${apiKey()}`, Accept: 'application/json' };
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${CONSOLE_URL}${path}`, { method, headers, body: payload });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 400)}`);
  return text ? JSON.parse(text) : null;
}

function upload(path, fields, name, bytes, type) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([bytes], { type }), name);
  return api('POST', path, form);
}

async function trainJob(spec, timeoutMs = JOB_TIMEOUT_MS) {
  let job = await api('POST', '/api/jobs/v1/fine_tuning/jobs', spec);
  const deadline = Date.now() + timeoutMs;
  while (!['succeeded', 'failed', 'cancelled'].includes(job.status) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 3000));
    job = await api('GET', `/api/jobs/v1/fine_tuning/jobs/${job.id}`);
  }
  if (job.status !== 'succeeded' || !job.adapter) throw new Error(`job ${job.id} (${spec.task}) ended ${job.status}: ${JSON.stringify(job.error ?? null)}`);
  return job;
}

/**
 * The decoder (zip of demo/decoder/pretrained + chat_template.jinja, made with Python's zipfile) and a two-stage LoRA
 * adapter: continued pretraining on fortune texts, then SFT (init_adapter = stage 1) on "User: … / Assistant: …"
 * pairs in the chat template's own shape.
 */
async function setUpServing() {
  const stamp = `${Date.now().toString(36)}`;
  const zip = execFileSync('python3', ['-c', `
import io, sys, zipfile
d, tpl = sys.argv[1], sys.argv[2]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    for f in ("config.json", "model.safetensors", "tokenizer.json"):
        z.write(d + "/" + f, f)
    z.writestr("chat_template.jinja", tpl)
sys.stdout.buffer.write(buf.getvalue())`, DECODER_DIR, CHAT_TEMPLATE], { maxBuffer: 64 << 20 });
  const model = await upload('/api/artifacts/v1/models', { name: `e2e-chat-decoder-${stamp}` }, 'model.zip', zip, 'application/zip');
  const rows = readFileSync(DATASET, 'utf8').split('\n').filter(Boolean).slice(0, 64).map((l) => JSON.parse(l));
  const jsonl = (xs) => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';
  const cpt = jsonl(rows.map((r) => ({ text: r.text.slice(0, 300) })));
  const sft = jsonl(rows.map((r) => ({ prompt: `User: Tell me a fortune about ${r.label}.\nAssistant:`, completion: ' ' + r.text.slice(0, 160) })));
  const file = (task, name, text) => upload('/api/artifacts/v1/files', { purpose: 'fine-tune', task }, name, Buffer.from(text), 'application/jsonl');
  const cptFile = await file('continued_pretraining', 'cpt.jsonl', cpt);
  const sftFile = await file('sft', 'sft.jsonl', sft);
  const sftValid = await file('sft', 'sft-valid.jsonl', jsonl(JSON.parse(`[${sft.trim().split('\n').slice(0, 6).join(',')}]`)));
  const hyper = { max_steps: SERVING_STEPS, batch_size: 8, max_seq_length: 64, learning_rate: 0.003, eval_every_steps: 0 };
  const lora = { type: 'lora', lora: { r: 8, alpha: 16, target_modules: ['c_attn'] } };
  const stage1 = await trainJob({ model: model.id, task: 'continued_pretraining', training_file: cptFile.id, method: lora, hyperparameters: hyper, suffix: 'e2e-cpt' });
  const stage2 = await trainJob({ model: model.id, task: 'sft', training_file: sftFile.id, validation_file: sftValid.id, method: lora,
    hyperparameters: hyper, init_adapter: stage1.adapter, suffix: 'e2e-sft' });
  return { model, stage1, stage2 };
}

test('playground: a base model and its two-stage adapter answer side by side, streamed', async () => {
  const { model, stage1, stage2 } = await serving;
  await page.getByRole('link', { name: 'Playground' }).click();
  await page.locator('#pg-base, #pg-no-models, #main .error, #main .notice').first().waitFor();
  assert.equal(await page.locator('#pg-base').count(), 1, `no base model to pick: ${await pageProblems()}`);
  await page.locator('#pg-base').selectOption(model.id);
  // the adapters offered are the ones trained on that base; pick the SFT stage
  const pick = page.locator(`#pg-adapters input[data-adapter="${stage2.adapter}"]`);
  await pick.check();
  assert.equal(await page.locator(`#pg-adapters input[data-adapter="${stage1.adapter}"]`).count(), 1, 'stage 1 is not offered');
  const panes = page.locator('#pg-panes .pane');
  assert.equal(await panes.count(), 2);
  assert.deepEqual(await panes.evaluateAll((els) => els.map((e) => e.dataset.model)), [model.id, stage2.adapter]);
  await page.locator('#pg-mode').selectOption('chat');
  await page.locator('#pg-temperature').fill('0');
  await page.locator('#pg-max_tokens').fill('24');
  await page.locator('#pg-message').fill('Tell me a fortune about computers.');
  await page.locator('#pg-send').click();
  // both panes stream: the answer grows chunk by chunk, then ends with a finish_reason
  for (const id of [model.id, stage2.adapter]) {
    const answer = page.locator(`#pg-panes .pane[data-model="${id}"] .msg.assistant`).last();
    await answer.and(page.locator('[data-streaming=false]')).waitFor({ timeout: 180_000 });
    assert.equal(await answer.getAttribute('data-error'), null, `${id}: ${await answer.innerText()}`);
    const chunks = Number(await answer.getAttribute('data-chunks'));
    assert.ok(chunks > 1, `${id}: ${chunks} chunk(s): the answer did not arrive streamed`);
    assert.match(await answer.getAttribute('data-finish'), /^(stop|length)$/);
    assert.ok((await answer.locator('.text').innerText()).trim().length > 0, `${id}: empty answer`);
    assert.match(await page.locator(`#pg-panes .pane[data-model="${id}"] .pane-status`).innerText(), /finish_reason: (stop|length) · \d+ token\(s\)/);
  }
  // the adapter learnt something the base did not: greedy answers differ
  const texts = await page.locator('#pg-panes .pane .msg.assistant .text').allInnerTexts();
  assert.notEqual(texts[0], texts[1], 'base and adapter gave the same greedy answer');
  await shot('10-playground');
});

test('adapter page: lineage through init_adapter, metrics, and "Try it" opens the playground with it', async () => {
  const { model, stage1, stage2 } = await serving;
  await page.getByRole('link', { name: 'Adapters' }).click();
  await page.locator(`#main a[href="#/adapters/${stage2.adapter}"]`).first().click();
  const lineage = page.locator('#lineage li');
  await lineage.first().waitFor();
  // base model → stage 1 (continued pretraining) → stage 2 (sft, this adapter)
  assert.deepEqual(await lineage.evaluateAll((els) => els.map((e) => e.dataset.stage)), ['base', stage1.adapter, stage2.adapter]);
  assert.match(await lineage.nth(0).innerText(), new RegExp(model.id));
  assert.match(await lineage.nth(1).innerText(), /continued_pretraining/);
  assert.match(await lineage.nth(2).innerText(), /sft/);
  // the SFT stage's evaluation (causal metrics on its validation file) appears once eval-service has scored it
  for (let i = 0; i < 30 && !(await page.locator('#adapter-metrics table').count()); i++) {
    await page.waitForTimeout(5_000);
    await page.reload();
    await page.locator('#adapter-metrics p, #adapter-metrics table').first().waitFor();
  }
  assert.match(await page.locator('#adapter-metrics').innerText(), /perplexity/, await page.locator('#adapter-metrics').innerText());
  await shot('11-adapter');
  await page.locator('#try-it').click();
  await page.waitForURL(/#\/playground\?/);
  await page.locator('#pg-panes .pane').nth(1).waitFor();
  assert.equal(await page.locator('#pg-base').inputValue(), model.id);
  assert.deepEqual(await page.locator('#pg-panes .pane').evaluateAll((els) => els.map((e) => e.dataset.model)), [model.id, stage2.adapter]);
  assert.equal(await page.locator(`#pg-adapters input[data-adapter="${stage2.adapter}"]`).isChecked(), true);
});

// ---- the two-stage recipe (issue 19) ------------------------------------------------------------------------------

/** A JSONL file uploaded for a task, through the playground section's upload(). */
async function uploadJsonl(name, lines, task) {
  const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
  return (await upload('/api/artifacts/v1/files', { purpose: 'fine-tune', task }, name, Buffer.from(text), 'application/jsonl')).id;
}

let twoStageJob = null;
let sftTrainingFile = null;

test('a two-stage adapter on the built-in decoder is compared with SFT only, beside the full baseline', async () => {
  const deadline = Date.now() + TWO_STAGE_TIMEOUT_MS;
  const tag = Date.now().toString(36);
  const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
  const domain = Array.from({ length: 30 }, (_, i) => ({ text: `Permission is granted to copy and modify this work, provided notice ${i} stays with every copy.` }));
  const pairs = Array.from({ length: 36 }, (_, i) => ({ prompt: `Clause ${i} permits:`, completion: ` ${words[i % 10]} copies` }));
  const textFile = await uploadJsonl(`domain-${tag}.jsonl`, domain, 'continued_pretraining');
  sftTrainingFile = await uploadJsonl(`clauses-train-${tag}.jsonl`, pairs.filter((_, i) => i % 3 !== 0), 'sft');
  const validation = await uploadJsonl(`clauses-valid-${tag}.jsonl`, pairs.filter((_, i) => i % 3 === 0), 'sft');
  const common = {
    model: DECODER,
    method: { type: 'lora', lora: { r: 4, alpha: 8, dropout: 0, target_modules: ['c_attn'] } },
    hyperparameters: { epochs: 1, batch_size: 4, learning_rate: 0.01, max_seq_length: 64, max_steps: TWO_STAGE_STEPS, eval_every_steps: 0, checkpoint_every_steps: 0 },
    seed: 7,
  };
  // stage 1: continued pretraining of a LoRA adapter on the domain text; stage 2: SFT continuing that adapter
  // on one worker these queue behind the earlier steps' jobs and their automatic baselines/counterparts: the step's
  // own deadline bounds them, not the per-job one
  const stage1 = await trainJob({ ...common, task: 'continued_pretraining', training_file: textFile, suffix: 'e2e-cpt' }, deadline - Date.now());
  const stage2 = await trainJob({ ...common, task: 'sft', training_file: sftTrainingFile, validation_file: validation, init_adapter: stage1.adapter, suffix: 'e2e-two-stage' }, deadline - Date.now());
  twoStageJob = stage2.id;

  await page.goto(`${CONSOLE_URL}/#/jobs/${encodeURIComponent(twoStageJob)}/comparison`);
  let state = 'none';
  for (;;) {
    await page.locator('#main table, #main .empty, #main .error, #main .notice').first().waitFor();
    state = (await page.locator('#post-pretraining-state').getAttribute('data-state').catch(() => null)) ?? 'none';
    // the trivial-reference line belongs to the comparison with the full baseline, which may still be training
    const withBaseline = (await page.locator('#trivial-reference').count()) > 0;
    if ((state === 'compared' && withBaseline) || state === 'failed' || Date.now() > deadline) break;
    await page.waitForTimeout(10_000);
    await page.reload();
  }
  await shot('12-two-stage-comparison');
  const section = page.locator('#post-pretraining');
  assert.equal(state, 'compared', `no two-stage comparison (${state}): ${await page.locator('#main').innerText()}`);
  assert.match(await section.locator('h2').innerText(), /Continued pretraining vs SFT only/);
  assert.match(await section.innerText(), /continued_pretraining \(\d+ steps\), then SFT/);
  const table = section.locator('table:has(caption:text("Two-stage adapter vs SFT only"))');
  const rows = await table.locator('tbody tr').allInnerTexts();
  for (const m of ['loss', 'perplexity', 'token_accuracy', 'exact_match']) {
    const row = rows.find((r) => r.startsWith(m));
    assert.ok(row, `no ${m} row in ${rows.join(' | ')}`);
    // two scores, a signed delta, an interval [low, high] and a verdict
    assert.match(row, /\[-?[\d.e-]+, -?[\d.e-]+\]/, `${m}: ${row}`);
    assert.match(row, /two-stage better|SFT only better|no clear difference/, `${m}: ${row}`);
  }
  // the SFT-only job is the tenant's own job, linked from the block
  const link = section.locator('a[href^="#/jobs/"]').last();
  const sftOnlyJob = decodeURIComponent((await link.getAttribute('href')).split('#/jobs/')[1]);
  const sftOnly = await api('GET', `/api/jobs/v1/fine_tuning/jobs/${encodeURIComponent(sftOnlyJob)}`);
  assert.equal(sftOnly.metadata?.foundry_sft_only, 'true');
  assert.equal(sftOnly.training_file, sftTrainingFile);
  // the trivial reference of a causal adapter is the base model's own score
  assert.match(await page.locator('#main').innerText(), /base model without adapter has perplexity [\d.]+/);
});

test('the dashboard marks the two-stage adapter', async () => {
  assert.ok(twoStageJob, 'no two-stage job ran');
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.locator('#dash-dataset option').first().waitFor({ state: 'attached' });
  await page.locator('#dash-model').selectOption(DECODER);
  await page.locator('#dash-dataset').selectOption(sftTrainingFile);
  const board = page.locator('#main table:has(caption:text("Leaderboard"))');
  await board.waitFor({ timeout: 15_000 }).catch(async () => assert.fail(`no leaderboard: ${await page.locator('#main').innerText()}`));
  const row = board.locator('tbody tr', { hasText: twoStageJob });
  await row.waitFor({ timeout: 15_000 });
  assert.equal(await row.locator('.badge.two-stage').count(), 1, await row.innerText());
  // the SFT-only counterpart on the same data is on the board too, unmarked
  const unmarked = board.locator('tbody tr', { hasNotText: twoStageJob });
  assert.ok(await unmarked.count() >= 1, await board.innerText());
  assert.equal(await unmarked.locator('.badge.two-stage').count(), 0);
  await page.waitForTimeout(500);
  await shot('13-dashboard-two-stage');
});
