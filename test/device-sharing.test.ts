/**
 * Device sharing (runtime/device.ts init): a raw WebGPU application creates its device and passes it
 * to init() before Tessera's first use. That needs a fresh process (the unit tests share one, whose
 * device is long chosen), so test/raw-webgpu-app.helpers.ts runs as a child and reports its checks.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const app = fileURLToPath(new URL('./raw-webgpu-app.helpers.ts', import.meta.url));

async function runApp(...args: string[]): Promise<{ name: string; ok: boolean; detail?: string }[]> {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', app, ...args], { timeout: 120_000, env: { ...process.env, TESSERA_AUTOTUNE: '0' } },
      (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out))));
  const line = stdout.split('\n').find((l) => l.startsWith('{"checks"'));
  assert.ok(line, `no result line in:\n${stdout}`);
  return JSON.parse(line!).checks;
}

test('a raw WebGPU app shares its GPUDevice with Tessera (child process)', async () => {
  const checks = await runApp();
  assert.is(checks.length, 7, 'all checks ran');
  for (const c of checks) assert.ok(c.ok, `${c.name}: ${c.detail}`);
});

test('an app lets Tessera request its device on the app\'s adapter (child process)', async () => {
  const checks = await runApp('adapter');
  assert.is(checks.length, 1, 'the check ran');
  for (const c of checks) assert.ok(c.ok, `${c.name}: ${c.detail}`);
});

test.run();
