#!/usr/bin/env node
// Browser WebGPU test driver.
//  1. bundles test/browser/entry.ts with esbuild into dist/browser-test/ (+ a one-line index.html);
//  2. serves that folder on 127.0.0.1 (a secure context, which WebGPU needs);
//  3. opens it in Debian's headless Chromium via playwright-core (WebGPU on SwiftShader);
//  4. waits for `window.__result`, prints each check, and exits non-zero on any failure.
// Env: CHROMIUM_PATH (default /usr/lib/chromium/chromium), BROWSER_TEST_TIMEOUT_MS (default 120000).
// `--entry FILE` bundles another entry that publishes `window.__result` the same way (bench/browser-rows.ts).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entryArg = process.argv.indexOf('--entry');
const entryRel = entryArg > 0 ? process.argv[entryArg + 1] : 'test/browser/entry.ts';
const entry = path.join(root, entryRel);
const outDir = path.join(root, 'dist/browser-test');
const executablePath = process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium';
const timeoutMs = Number(process.env.BROWSER_TEST_TIMEOUT_MS || 120_000);

const t0 = performance.now();
const secs = () => ((performance.now() - t0) / 1000).toFixed(1) + 's';
const log = (msg) => console.log(`[browser-test ${secs()}] ${msg}`);

if (!existsSync(executablePath)) {
  console.error(
    `browser-test: Chromium not found at ${executablePath}.\n` +
      `Run \`npm run setup\` (bash scripts/install-system.sh) to install it, or set CHROMIUM_PATH.`,
  );
  console.log('browser: 0 passed, 1 failed');
  process.exit(1);
}

// ---- 1. bundle --------------------------------------------------------------------------------
async function bundle() {
  const esbuild = await import('esbuild');
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await esbuild.build({
    entryPoints: [entry],
    outfile: path.join(outDir, 'bundle.js'),
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    bundle: true,
    external: ['webgpu'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  await writeFile(
    path.join(outDir, 'index.html'),
    '<!doctype html>\n<meta charset="utf-8">\n<title>tessera browser test</title>\n<script type="module" src="./bundle.js"></script>\n',
  );
}

// ---- 2. static server -------------------------------------------------------------------------
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wgsl': 'text/plain; charset=utf-8',
  '.bin': 'application/octet-stream',
};

function serve(dir) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end(); // avoid a 404 console error
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.join(dir, path.normalize(rel));
    if (!file.startsWith(dir + path.sep)) return void res.writeHead(403).end('forbidden');
    try {
      const body = await readFile(file);
      const type = MIME[path.extname(file)] ?? 'application/octet-stream';
      res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// ---- 3. run in chromium -----------------------------------------------------------------------
async function runInBrowser(url) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--enable-unsafe-webgpu'] });
  try {
    log(`chromium ${browser.version()} launched`);
    const page = await browser.newPage();
    let fatal; // set when the page dies or throws before publishing a result
    let rejectFatal;
    const fatalPromise = new Promise((_, reject) => (rejectFatal = reject));
    fatalPromise.catch(() => {});
    page.on('console', (msg) => console.log(`  [page console.${msg.type()}] ${msg.text()}`));
    page.on('pageerror', (err) => {
      console.log(`  [page error] ${err.stack || err.message}`);
      // An uncaught error may be harmless; give the page a moment to publish its result anyway.
      if (!fatal) {
        fatal = err;
        setTimeout(() => rejectFatal(new Error(`uncaught page error and no result: ${err.message}`)), 3000).unref();
      }
    });
    page.on('crash', () => rejectFatal(new Error('page crashed')));
    const response = await page.goto(url);
    if (!response?.ok()) throw new Error(`GET ${url} -> ${response?.status()}`);
    await Promise.race([
      page.waitForFunction(() => window.__result !== undefined, null, { timeout: timeoutMs, polling: 100 }),
      fatalPromise,
    ]);
    return await page.evaluate(() => window.__result);
  } finally {
    await browser.close();
  }
}

// ---- 4. report --------------------------------------------------------------------------------
function report(result) {
  if (!result || typeof result !== 'object') throw new Error(`bad window.__result: ${JSON.stringify(result)}`);
  if ('error' in result) throw new Error(`page reported an error: ${result.error}`);
  const checks = Array.isArray(result.checks) ? result.checks : [];
  if (result.adapter) {
    const { info = {}, limits = {}, features = [] } = result.adapter;
    log(`adapter: ${JSON.stringify(info)}`);
    const keyLimits = [
      'maxStorageBuffersPerShaderStage',
      'maxStorageBufferBindingSize',
      'maxBufferSize',
      'maxComputeInvocationsPerWorkgroup',
      'maxComputeWorkgroupSizeX',
      'maxComputeWorkgroupsPerDimension',
      'maxComputeWorkgroupStorageSize',
    ];
    log(`limits: ${keyLimits.map((k) => `${k}=${limits[k]}`).join(' ')}`);
    log(`features: ${features.join(', ')}`);
  }
  let passed = 0;
  let failed = 0;
  for (const c of checks) {
    if (c.ok) passed++;
    else failed++;
    console.log(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name}${c.detail ? ` -- ${c.detail}` : ''}`);
  }
  if (checks.length === 0) {
    console.log('  FAIL  (no checks reported)');
    failed++;
  }
  return { passed, failed };
}

let server;
let passed = 0;
let failed = 0;
try {
  await bundle();
  log(`bundled ${entryRel} -> dist/browser-test/bundle.js`);
  server = await serve(outDir);
  const url = `http://127.0.0.1:${server.address().port}/index.html`;
  log(`serving ${outDir} at ${url}`);
  ({ passed, failed } = report(await runInBrowser(url)));
} catch (err) {
  console.error(`browser-test: ${err?.stack || err}`);
  failed++;
} finally {
  if (server) {
    server.closeAllConnections?.();
    server.close();
  }
}
log('done');
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
