/** The `tessera` CLI: the bin on an example module, each command's help, and clear errors. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../cli/main.ts';
import { checkXml } from './xml-helpers.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tessera-cli-'));

/** Runs main() in this process, capturing what it prints. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const log = console.log, error = console.error;
  let out = '', err = '';
  console.log = (...a: unknown[]) => { out += a.join(' ') + '\n'; };
  console.error = (...a: unknown[]) => { err += a.join(' ') + '\n'; };
  try { return { code: await main(argv), out, err }; } finally { console.log = log; console.error = error; }
}

/** Runs the `tessera` bin in a child process. */
async function bin(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/tessera.mjs', ...argv], { env: { ...process.env,
      TESSERA_AUTOTUNE: '0' } });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

test('the bin explains an example module and writes its SVG', async () => {
  const svg = path.join(dir, 'model.svg');
  const { out: stdout, code, err } = await bin('explain', 'examples/inspect-model.ts', '--svg', svg);
  assert.is(code, 0, err);
  assert.match(stdout, /one train step of model/);
  assert.match(stdout, /train step of sequential: \d+ primitives in \d+ kernels/);
  assert.match(stdout, /params\.dense\w*\.kernel f32\[3,10\]/);
  assert.match(stdout, /matmul_add_max/); // the first Dense's bias and relu fused into the second's matmul prologue/epilogue
  checkXml(readFileSync(svg, 'utf8'));
});

test('every command has --help', async () => {
  for (const cmd of ['explain', 'profile', 'tune', 'info']) {
    const r = await run(cmd, '--help');
    assert.is(r.code, 0);
    assert.ok(r.out.startsWith(`usage: tessera ${cmd}`), r.out);
  }
  const top = await run('--help');
  assert.ok(top.out.includes('commands:'));
  const bad = await run('frobnicate');
  assert.is(bad.code, 2);
  assert.match(bad.err, /unknown command 'frobnicate'/);
});

test('missing files, exports and inputs fail clearly', async () => {
  const missing = await run('explain', 'no/such/model.ts');
  assert.is(missing.code, 1);
  assert.match(missing.err, /tessera explain: no such file: no\/such\/model.ts/);
  const noExport = await bin('profile', 'examples/inspect-softmax.ts', '--export', 'nope');
  assert.is(noExport.code, 1);
  assert.match(noExport.err, /has no export named 'nope' \(it exports: default, inputs\)/);
  const noValue = await run('explain', 'examples/inspect-softmax.ts', '--export');
  assert.is(noValue.code, 2);
  assert.match(noValue.err, /--export needs a value/);
  const none = await run('explain');
  assert.match(none.err, /no module given/);
});

// Modules are loaded by the bin (pure ESM): in this process, uvu's CommonJS hook would load a second copy of index.ts for them.
test('explain --json, profile and tune run on a function module', async () => {
  const j = await bin('explain', 'examples/inspect-softmax.ts', '--json');
  assert.is(j.code, 0, j.err);
  const report = JSON.parse(j.out);
  assert.equal(report.kernels.map((k: { kind: string }) => k.kind), ['matmul', 'row']);
  const roof = path.join(dir, 'roof.svg');
  const p = await bin('profile', 'examples/inspect-softmax.ts', '--reps', '1', '--svg', roof);
  assert.is(p.code, 0, p.err);
  assert.match(p.out, /row_mul_max_sub_exp_sum_div/);
  assert.match(p.out, /examples\/inspect-softmax.ts:\d+/);
  checkXml(readFileSync(roof, 'utf8'));
  const t = await bin('tune', 'examples/inspect-softmax.ts', '--cache', path.join(dir, 'tune.json'));
  assert.is(t.code, 0, t.err);
  assert.match(t.out, /2 kernels/);
  assert.match(t.out, /k0 matmul_copy: \S+/);
});

test('info prints the adapter and its limits', async () => {
  const r = await run('info', '--no-ceilings');
  assert.is(r.code, 0);
  assert.match(r.out, /adapter: /);
  assert.match(r.out, /storage buffers per kernel \d+/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
