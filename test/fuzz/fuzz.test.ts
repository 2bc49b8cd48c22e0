/**
 * The differential fuzzer's fixed-seed slice: random programs over every op family and dtype
 * (test/fuzz/gen-helpers.ts), each run eagerly fused, unfused, jitted and under storage-buffer
 * limits 8, 10 and 16 against the float64 interpreter; every fourth a gradient program checked by
 * finite differences. A failure prints the shrunk program as code. `npm run fuzz -- --n 10000
 * --seed S` runs it long.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compilerOptions, getDevice, realizeAll } from '../../index.ts';
import { allclose } from '../helpers.ts';
import { checkMode, fuzz, shrink } from './check-helpers.ts';
import { evaluate, generate, toCode } from './gen-helpers.ts';

test('16 random programs (4 gradient programs) agree with the float64 interpreter in every mode', async () => {
  const f16 = (await getDevice()).caps.f16;
  const res = await fuzz({ n: 16, seed: 20261201, f16 });
  assert.is(res.programs, 16);
  assert.ok(res.runs >= 16 * 4, `runs ${res.runs}`);
  assert.equal(res.failures, [], res.failures.join('\n\n'));
});

test('a program printed as code (the form failures are reported in) runs and computes the same values', async () => {
  const prog = generate(20261207, {});
  const env = evaluate(prog), outs = prog.outs.map((o) => env.get(o)!);
  await realizeAll(outs);
  const root = resolve(fileURLToPath(import.meta.url), '../../..');
  const dir = mkdtempSync(join(tmpdir(), 'tessera-repro-'));
  try {
    const file = join(dir, 'repro.mts');
    writeFileSync(file, toCode(prog).replaceAll("'tessera'", JSON.stringify(join(root, 'index.ts')))
      .replace(/console\.log\(await (\w+)\.data\(\)\);/g, 'console.log(JSON.stringify(Array.from(await $1.data())));'));
    const out = execFileSync(join(root, 'node_modules', '.bin', 'tsx'), [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const got = out.trim().split('\n').map((l) => JSON.parse(l) as number[]);
    assert.is(got.length, outs.length);
    for (let i = 0; i < outs.length; i++) allclose(got[i]!, await outs[i]!.data(), { rtol: 1e-6, atol: 1e-6, msg: `output ${prog.outs[i]}` });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('the shrinker cuts a failing program down to the step that fails, still failing the same way', async () => {
  // An injected compiler failure: every row kernel (a reduction) fails to compile.
  const saved = compilerOptions.schedule, savedMax = compilerOptions.maxBuffers;
  compilerOptions.maxBuffers = 4093; // above the device's limit (no effect) but part of the program cache key: nothing cached is reused
  compilerOptions.schedule = (k, dev) => {
    if (k.kind === 'row') throw new Error('injected: row kernels fail');
    return saved?.(k, dev);
  };
  try {
    let seed = 1, prog = generate(seed, { steps: 8 });
    const reduces = (p: typeof prog) => p.steps.findIndex((st) => /ts\.(sum|mean|max|min|variance|logsumexp|softmax)\(/.test(st.code(st.args)));
    while (reduces(prog) < 3) prog = generate(++seed, { steps: 8 });
    const f = await checkMode(prog, 'fused');
    assert.ok(f && f.kind === 'error' && /injected/.test(f.message), `seed ${seed} fails: ${f?.message}`);
    const small = await shrink(prog, f!, 30);
    assert.ok(small.prog.steps.length <= 2 && small.prog.steps.length < prog.steps.length,
      `shrunk ${prog.steps.length} steps to ${small.prog.steps.length}:\n${toCode(small.prog)}`);
    assert.match(small.failure.message, /injected/);
    assert.ok(reduces(small.prog) >= 0, 'the reduction is kept');
  } finally { compilerOptions.schedule = saved; compilerOptions.maxBuffers = savedMax; }
});

test.run();
