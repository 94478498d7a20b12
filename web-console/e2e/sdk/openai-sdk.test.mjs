// The platform through the official OpenAI Node client only (npm `openai`), against the gateway (the console's /v1).
// Environment as the browser tests: CONSOLE_URL, FOUNDRY_API_KEY (an admin key: the suite makes its own tenant and
// key, so the lists it checks hold exactly what it made), E2E_MODEL, E2E_DATASET; SDK_MAX_STEPS, SDK_JOB_TIMEOUT_S.
// Steps share state and run in order. Run by ./run (web-console/e2e/run, ./foundry test).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI, { toFile } from 'openai';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const CONSOLE_URL = (process.env.CONSOLE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const BASE_URL = `${CONSOLE_URL}/v1`;
const MODEL = process.env.E2E_MODEL ?? 'all-minilm-l6-v2';
const DATASET = resolve(process.env.E2E_DATASET ?? join(root, 'data/fortunes/smoke/train.jsonl'));
const MAX_STEPS = Number(process.env.SDK_MAX_STEPS ?? 4);
const JOB_TIMEOUT_MS = 1000 * Number(process.env.SDK_JOB_TIMEOUT_S ?? 900);
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

function adminKey() {
  if (process.env.FOUNDRY_API_KEY) return process.env.FOUNDRY_API_KEY.trim();
  const file = join(root, '.foundry/admin-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new Error('set FOUNDRY_API_KEY (or run ./foundry up, which writes .foundry/admin-key)');
}

/** Tenant administration is no OpenAI API: plain fetch through the same gateway. */
async function adminPost(path, body) {
  const res = await fetch(`${BASE_URL}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminKey()}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, `${path}: ${await res.clone().text()}`);
  return res.json();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let client;
const files = [];
let jobId;

before(async () => {
  const tenant = `sdk-node-${Math.random().toString(16).slice(2, 10)}`;
  await adminPost('/admin/tenants', { id: tenant, name: tenant });
  const { key } = await adminPost(`/admin/tenants/${tenant}/keys`, { name: 'openai-node-sdk' });
  client = new OpenAI({ apiKey: key, baseURL: BASE_URL, maxRetries: 0, timeout: 120_000 });
});

test('files.create uploads datasets (multipart through the gateway)', async () => {
  const lines = readFileSync(DATASET, 'utf8').trim().split('\n');
  for (let i = 0; i < 5; i++) {
    const rotated = [...lines.slice(i), ...lines.slice(0, i)].join('\n');
    const f = await client.files.create({ file: await toFile(Buffer.from(rotated), `train-${i}.jsonl`), purpose: 'fine-tune' });
    assert.match(f.id, /^file-/);
    assert.equal(f.object, 'file');
    assert.equal(f.filename, `train-${i}.jsonl`);
    assert.equal(f.line_count, lines.length);
    files.push(f.id);
  }
  assert.equal((await client.files.retrieve(files[0])).id, files[0]);
});

test('files.list pages by after=last_id until has_more is false', async () => {
  const first = await client.files.list({ limit: 2 });
  assert.equal(first.data.length, 2);
  assert.equal(first.has_more, true);
  let pages = 1;
  for (let page = first; page.hasNextPage(); pages++) page = await page.getNextPage();
  assert.equal(pages, 3, '5 files in pages of 2: 2 + 2 + 1');
  const listed = [];
  for await (const f of client.files.list({ limit: 2 })) listed.push(f.id);
  assert.deepEqual(listed, [...files].reverse(), 'every file once, newest first');
});

test('a plain OpenAI-shaped job is created and cancelled', async () => {
  const job = await client.fineTuning.jobs.create({ model: MODEL, training_file: files[0], suffix: 'plain', seed: 7 });
  assert.equal(job.object, 'fine_tuning.job');
  assert.equal(job.model, MODEL);
  assert.equal(job.fine_tuned_model, null);
  const cancelled = await client.fineTuning.jobs.cancel(job.id);
  assert.ok(['cancelled', 'cancelling'].includes(cancelled.status), cancelled.status);
  const deadline = Date.now() + 120_000;
  while ((await client.fineTuning.jobs.retrieve(job.id)).status !== 'cancelled') {
    assert.ok(Date.now() < deadline, 'the cancelled job never read cancelled');
    await sleep(1000);
  }
});

test('a job in our shape (task, method, hyperparameters beside the OpenAI fields)', async () => {
  const job = await client.fineTuning.jobs.create({
    model: MODEL,
    training_file: files[1],
    suffix: 'lora-sdk',
    seed: 42,
    task: 'classification',
    method: { type: 'lora', lora: { r: 4, alpha: 8, target_modules: ['query', 'value'] } },
    hyperparameters: { max_steps: MAX_STEPS, batch_size: 8, learning_rate: 1e-3, checkpoint_every_steps: 2,
      eval_every_steps: MAX_STEPS },
    metadata: { suite: 'openai-node' },
  });
  assert.equal(job.method.type, 'lora');
  assert.equal(job.hyperparameters.max_steps, MAX_STEPS);
  jobId = job.id;
  const listed = [];
  for await (const j of client.fineTuning.jobs.list({ limit: 1 })) listed.push(j.id);
  assert.equal(listed.length, 2, 'the plain job and this one, one a page');
  assert.equal(listed[0], jobId, 'newest first');
});

test('listEvents followed to the end: the job succeeds', async () => {
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  const seen = [];
  let after;
  let status;
  while (!TERMINAL.has(status)) {
    assert.ok(Date.now() < deadline, `job ${jobId} did not end; last events ${JSON.stringify(seen.slice(-3))}`);
    const page = await client.fineTuning.jobs.listEvents(jobId, { limit: 5, ...(after ? { after } : {}) });
    for (const e of page.data) {
      seen.push(e);
      if (e.type === 'status') status = e.status;
    }
    if (page.data.length) after = page.data[page.data.length - 1].id;
    if (!page.has_more && !TERMINAL.has(status)) await sleep(1000);
  }
  assert.equal(status, 'succeeded', JSON.stringify(seen.slice(-5).map((e) => e.message)));
  const seqs = seen.map((e) => e.seq);
  assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b), 'every event once, in order');
  assert.ok(seen.some((e) => e.type === 'metrics'), 'training reported metrics');
  const again = [];
  for await (const e of client.fineTuning.jobs.listEvents(jobId, { limit: 3 })) again.push(e.id);
  assert.deepEqual(again, seen.map((e) => e.id));
});

test('checkpoints.list and fine_tuned_model', async () => {
  const checkpoints = [];
  for await (const c of client.fineTuning.jobs.checkpoints.list(jobId, { limit: 1 })) checkpoints.push(c);
  assert.ok(checkpoints.length >= MAX_STEPS / 2 - 1, JSON.stringify(checkpoints));
  assert.ok(checkpoints.every((c) => c.fine_tuning_job_id === jobId));
  const steps = checkpoints.map((c) => c.step);
  assert.deepEqual(steps, [...steps].sort((a, b) => b - a), 'newest first');
  const job = await client.fineTuning.jobs.retrieve(jobId);
  assert.equal(job.status, 'succeeded');
  assert.ok(job.fine_tuned_model, 'fine_tuned_model is set');
  assert.equal(job.fine_tuned_model, job.adapter);
  assert.ok(job.trained_tokens > 0);
  assert.deepEqual(job.result_files, []);
});

test('errors: 401, 404 and 400 naming the param', async () => {
  const stranger = new OpenAI({ apiKey: 'sk-not-a-key', baseURL: BASE_URL, maxRetries: 0 });
  await assert.rejects(stranger.files.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  await assert.rejects(client.fineTuning.jobs.retrieve('ftjob-does-not-exist'),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.message.includes('ftjob-does-not-exist'));
  await assert.rejects(client.files.retrieve('file-does-not-exist'), (e) => e instanceof OpenAI.NotFoundError);
  await assert.rejects(
    client.fineTuning.jobs.create({ model: MODEL, training_file: files[0], hyperparameters: { n_epochs: 0 } }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'hyperparameters.n_epochs');
  await assert.rejects(client.files.list({ limit: 1000 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'limit');
});
