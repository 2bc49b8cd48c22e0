#!/usr/bin/env node
// Browser test of the demo page (npm run demo:web): builds and serves it, opens it in headless
// Chromium (WebGPU on SwiftShader), trains the digits MLP and the seed model for a few epochs,
// checks that the loss falls, that the kernel panel lists the train step's kernels (with WGSL on
// click and times), that drawn test digits are classified, and that without WebGPU the page
// says so. Saves screenshots into dist/test-output/. Env: CHROMIUM_PATH, DEMO_TEST_TIMEOUT_MS,
// DEMO_TEST_CNN=1 (also trains the CNN for 2 epochs: about 50 s more).
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDemo, serveDemo } from './demo-web.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist/test-output');
const executablePath = process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium';
const timeout = Number(process.env.DEMO_TEST_TIMEOUT_MS || 300_000);
const t0 = performance.now();
const log = (m) => console.log(`[demo-web-test ${((performance.now() - t0) / 1000).toFixed(1)}s] ${m}`);
const checks = [];
const check = (name, ok, detail = '') => {
  checks.push({ name, ok: !!ok });
  console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? ` -- ${detail}` : ''}`);
};

/** A PNG of the whole page via CDP (Playwright's page.screenshot waits forever on this headless build). */
async function screenshot(page, file) {
  const cdp = await page.context().newCDPSession(page);
  const { data } = await cdp.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
  await writeFile(file, Buffer.from(data, 'base64'));
  log(`screenshot: ${path.relative(root, file)}`);
}

async function open(chromium, url, args) {
  const browser = await chromium.launch({ executablePath, headless: true, args });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log(`  [page console.${m.type()}] ${m.text()}`); });
  page.on('pageerror', (e) => console.log(`  [page error] ${e.stack || e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.tesseraDemo?.ready, null, { timeout: 60_000 });
  return { browser, page };
}

let server;
try {
  if (!existsSync(executablePath)) throw new Error(`Chromium not found at ${executablePath} (npm run setup installs it, or set CHROMIUM_PATH)`);
  await buildDemo();
  server = await serveDemo(0);
  const url = `http://127.0.0.1:${server.address().port}/`;
  log(`serving the demo at ${url}`);
  await mkdir(outDir, { recursive: true });
  const { chromium } = await import('playwright-core');

  const { browser, page } = await open(chromium, url, ['--enable-unsafe-webgpu']);
  try {
    check('the page finds a WebGPU adapter', await page.evaluate(() => window.tesseraDemo.webgpu), await page.textContent('#adapter'));
    const mlp = await page.evaluate(() => window.tesseraDemo.train('mlp', 3), null, { timeout });
    log(`mlp: loss ${mlp.loss.map((v) => v.toFixed(4)).join(' → ')}, accuracy ${mlp.accuracy.map((v) => v.toFixed(3)).join(' → ')}`);
    check('digits MLP: 3 epochs, the loss falls', mlp.loss.length === 3 && mlp.loss[2] < mlp.loss[0] * 0.8, mlp.loss.join(', '));
    const rows = await page.$$eval('#kernels tr.kernel', (rs) => rs.map((r) => ({ name: r.querySelector('.name').textContent,
      ms: r.querySelector('.ms').textContent, chips: r.querySelectorAll('.chip').length })));
    check('the kernel panel lists the train step\'s kernels with fused ops and times', rows.length >= 3 && rows.every((r) => r.chips > 0
      && /^\d+\.\d+$/.test(r.ms)),
      `${rows.length} kernels: ${rows.slice(0, 4).map((r) => `${r.name} ${r.ms} ms`).join(', ')}…`);
    check('a matmul kernel fuses its epilogue', rows.some((r) => /^matmul_.*add/.test(r.name)), rows.map((r) => r.name).join(' '));
    await page.click('#kernels tr.kernel');
    const wgsl = await page.textContent('pre.wgsl');
    check('clicking a kernel shows its WGSL', wgsl.includes('@compute') && wgsl.includes('fn main'), wgsl.split('\n')[0]);
    check('the plot shows loss and accuracy curves', (await page.$$('#plot polyline.series')).length >= 4);
    let right = 0;
    for (let i = 0; i < 10; i++) { const r = await page.evaluate((k) => window.tesseraDemo.classifySample(k), i); if (r.label === r.guess) right++; }
    check('drawn test digits are classified (at least 6 of 10 right)', right >= 6, `${right}/10`);
    await page.click('#clear');
    const box = await page.$eval('#pad', (c) => { const r = c.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
    await page.mouse.move(box.x + box.w * 0.5, box.y + box.h * 0.15);
    await page.mouse.down();
    for (let t = 1; t <= 10; t++) await page.mouse.move(box.x + box.w * 0.5, box.y + box.h * (0.15 + 0.07 * t));
    await page.mouse.up();
    await page.waitForFunction(() => /it is a \d/.test(document.getElementById('guess').textContent), null, { timeout: 20_000 });
    const bars = await page.$$('#bars .bar');
    check('drawing on the pad with the pointer classifies the drawing', bars.length === 10, await page.textContent('#guess'));
    await page.evaluate(() => document.querySelectorAll('.pictures details').forEach((d) => { d.open = true; }));
    await screenshot(page, path.join(outDir, 'demo-web.png'));
    const seed = await page.evaluate(() => window.tesseraDemo.train('seed', 10), null, { timeout });
    log(`seed: loss ${seed.loss[0].toFixed(4)} → ${seed.loss[seed.loss.length - 1].toFixed(4)}`);
    check('the seed Keras model: 10 epochs, the loss falls', seed.loss.length === 10 && seed.loss[9] < seed.loss[0],
      seed.loss.map((v) => v.toFixed(4)).join(' '));
    check('the seed model\'s kernel panel is filled', seed.kernels >= 2, `${seed.kernels} kernels`);
    if (process.env.DEMO_TEST_CNN === '1') { // ~50 s more on SwiftShader over 2 cores
    const cnn = await page.evaluate(() => window.tesseraDemo.train('cnn', 2), null, { timeout });
    log(`cnn: loss ${cnn.loss.map((v) => v.toFixed(4)).join(' → ')}`);
    check('digits CNN: 2 epochs, the loss falls; its kernels are listed', cnn.loss.length === 2 && cnn.loss[1] < cnn.loss[0] && cnn.kernels >= 3,
      `${cnn.kernels} kernels`);
    }
  } finally { await browser.close(); }

  const plain = await open(chromium, url, []);
  try {
    const shown = await plain.page.isVisible('#nogpu'), app = await plain.page.isVisible('#app');
    check('without WebGPU the page says so (and hides the controls)', shown && !app
      && !(await plain.page.evaluate(() => window.tesseraDemo.webgpu)), (await plain.page.textContent('#nogpu h2')) ?? '');
    await screenshot(plain.page, path.join(outDir, 'demo-web-no-webgpu.png'));
  } finally { await plain.browser.close(); }
} catch (e) {
  console.error(`demo-web-test: ${e?.stack || e}`);
  checks.push({ name: 'run', ok: false });
} finally {
  server?.closeAllConnections?.();
  server?.close();
}
const passed = checks.filter((c) => c.ok).length;
console.log(`demo-web: ${passed} passed, ${checks.length - passed} failed`);
process.exitCode = passed === checks.length && checks.length ? 0 : 1;
