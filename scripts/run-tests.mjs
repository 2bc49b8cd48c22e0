#!/usr/bin/env node
// `npm test`: typecheck, the uvu suite on Node's WebGPU (lavapipe here), then the browser suite in
// headless Chromium. Streams each step's output and ends with one line counting every test:
// "tests: N passed, M failed". Exits non-zero if any step fails.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const steps = [
  ['typecheck', 'npx', ['tsc', '--noEmit', '-p', '.']],
  ['unit', 'npx', ['uvu', '-r', 'tsx', 'test', '-i', '^browser$|helpers']],
  ['browser', 'node', ['scripts/browser-test.mjs']],
  ['demo-web', 'node', ['scripts/demo-web-test.mjs']],
];
let passed = 0, failed = 0, ok = true;
// The suite's compiled plans (runtime/plan-cache.ts) go to a temporary directory, removed at the end.
const planDir = mkdtempSync(join(tmpdir(), 'tessera-test-plans-'));
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
for (const [name, cmd, args] of steps) {
  let out = '';
  const code = await new Promise((resolve) => {
    // Background tuning would tune one test's large kernels during later tests (test/tuning.test.ts
    // sets its modes itself): the suite runs untuned unless TESSERA_TUNE says otherwise.
    const env = { ...process.env, TESSERA_TUNE: process.env.TESSERA_TUNE ?? 'off', TESSERA_PLAN_CACHE: process.env.TESSERA_PLAN_CACHE ?? planDir };
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    p.stdout.on('data', (d) => { process.stdout.write(d); out += d; });
    p.stderr.on('data', (d) => { process.stderr.write(d); out += d; });
    p.on('close', resolve);
  });
  const text = strip(out);
  if (name === 'unit') {
    const total = +(text.match(/Total:\s+(\d+)/)?.[1] ?? 0), pass = +(text.match(/Passed:\s+(\d+)/)?.[1] ?? 0);
    passed += pass; failed += total - pass;
    if (!total) { console.error('unit: no tests ran'); ok = false; }
  } else if (name === 'browser' || name === 'demo-web') {
    const m = text.match(new RegExp(`${name}: (\\d+) passed, (\\d+) failed`));
    if (m) { passed += +m[1]; failed += +m[2]; } else failed++;
  }
  if (code !== 0) { console.error(`${name}: failed (exit ${code})`); ok = false; }
}
rmSync(planDir, { recursive: true, force: true });
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(ok && failed === 0 ? 0 : 1);
