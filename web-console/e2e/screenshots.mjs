// Screenshots of the console's pages for docs/screenshots (small viewport PNGs), against a running stack.
// Usage: CONSOLE_URL=… FOUNDRY_API_KEY=… node screenshots.mjs [outDir] [jobId]
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, '../../docs/screenshots'));
const jobId = process.argv[3];
const url = (process.env.CONSOLE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const key = process.env.FOUNDRY_API_KEY;
const exe = process.env.CHROMIUM ?? (existsSync('/usr/lib/chromium/chromium') ? '/usr/lib/chromium/chromium' : '/usr/bin/chromium');
mkdirSync(out, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'foundry-shots-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: exe, headless: true, viewport: { width: 1280, height: 800 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = ctx.pages()[0] ?? (await ctx.newPage());
page.setDefaultTimeout(60_000);
const settle = () => page.waitForFunction(() => !document.querySelector('#main')?.textContent?.includes('Loading…'), null, { timeout: 60_000 }).catch(() => {});
async function shot(route, name, prepare) {
  await page.goto(`${url}/${route}`);
  await settle();
  if (prepare) await prepare();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, `${name}.png`) });
  console.log(`${name}.png`);
}
try {
  await shot('#/signin', 'console-sign-in', async () => page.getByLabel('API key').fill('pf-example-key'));
  await page.evaluate((k) => { sessionStorage.setItem('foundry.apiKey', k); sessionStorage.setItem('foundry.tenant', 'admin'); }, key);
  await shot('#/jobs', 'console-jobs');
  await shot('#/models', 'console-models');
  await shot('#/datasets', 'console-datasets');
  await shot('#/jobs/new', 'console-new-job', async () => page.locator('#f-method-type').waitFor());
  if (jobId) await shot(`#/jobs/${jobId}`, 'console-job-live', async () => page.waitForTimeout(3000));
  if (jobId) await shot(`#/jobs/${jobId}/comparison`, 'console-comparison');
  await shot('#/dashboard', 'console-dashboard');
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
