/**
 * The package as it ships (package.json, scripts/build.mjs): the exports map with types, `webgpu` an
 * optional peer, the core's browser bundle within 60 KB gzipped without tfjs or ONNX code, and the built
 * dist/ loading in plain Node (no TypeScript loader) and type-checking for a consumer, through the
 * package's own name (Node and TypeScript resolve a package's self-reference through its exports).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd: string, args: string[]) => new Promise<string>((resolve, reject) =>
  execFile(cmd, args, { cwd: root, timeout: 120_000 }, (err, out, errOut) =>
    (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${out}\n${errOut}`)) : resolve(out))));

test('package.json: exports with types for ., ./core, ./tfjs, ./onnx, ./browser; webgpu is an optional peer (and a devDependency)', async () => {
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  for (const [sub, dir] of [['.', 'dist/index'], ['./core', 'dist/core'], ['./tfjs', 'dist/interop/tfjs/index'], ['./onnx', 'dist/interop/onnx/index']])
    assert.equal(pkg.exports[sub], { types: `./${dir}.d.ts`, import: `./${dir}.js` }, sub);
  assert.equal(pkg.exports['./browser'], { types: './dist/index.d.ts', import: './dist/tessera.min.js' }, './browser');
  assert.is(pkg.type, 'module');
  assert.not.ok(pkg.dependencies?.webgpu, 'webgpu is not a hard dependency');
  assert.ok(pkg.peerDependencies.webgpu && pkg.peerDependenciesMeta.webgpu.optional, 'optional peer');
  assert.ok(pkg.devDependencies.webgpu, 'the tests still get it');
});

test('the core browser bundle (tessera/core) is at most 60 KB gzipped; neither it nor the full entry holds tfjs or ONNX code', async () => {
  const bundle = async (entry: string) => {
    const out = await esbuild.build({
      entryPoints: [path.join(root, entry)], bundle: true, minify: true, keepNames: true, write: false, metafile: true,
      format: 'esm', platform: 'browser', target: 'es2022', external: ['webgpu', 'node:*'], logLevel: 'silent',
    });
    const gz = gzipSync(out.outputFiles[0]!.contents).length;
    console.log(`  ${entry} bundle: ${(out.outputFiles[0]!.contents.length / 1024).toFixed(1)} KB minified, ${(gz / 1024).toFixed(1)} KB gzipped`);
    const foreign = Object.keys(out.metafile!.inputs).filter((f) => /node_modules|interop\//.test(f));
    assert.equal(foreign, [], `${entry}: only Tessera's own sources`);
    // package.json `sideEffects` must keep the Tensor methods (ops/methods.ts patches the prototype) in bundles
    const kept = Object.values(out.metafile!.outputs)[0]!.inputs['ops/methods.ts']?.bytesInOutput ?? 0;
    assert.ok(kept > 0, `${entry}: the chainable methods are in the bundle (${kept} bytes)`);
    return gz;
  };
  const core = await bundle('core.ts');
  assert.ok(core <= 60 * 1024, `core: ${core} bytes gzipped`);
  await bundle('index.ts'); // the full entry adds nn and the inspection tools: reported, not bounded
});

test('npm run build: dist/ loads in plain Node and type-checks for a consumer, through the exports map', async () => {
  await run(process.execPath, [path.join(root, 'scripts/build.mjs')]);
  const dir = path.join(root, 'dist/package-check');
  await mkdir(dir, { recursive: true });
  try {
    await writeFile(path.join(dir, 'consumer.mjs'), `import * as ts from 'tessera';
import * as min from 'tessera/browser';
const y = ts.tensor([1, 2, 3], { dtype: 'float32' }).mul(2).add(1);
console.log(JSON.stringify(Array.from(await y.data())));
console.log(JSON.stringify(Array.from(await min.tensor([1, 2], { dtype: 'float32' }).neg().data())));
process.exit(0);
`);
    const out = await run(process.execPath, [path.join(dir, 'consumer.mjs')]);
    assert.ok(out.includes('[3,5,7]'), `computes through dist/index.js: ${out}`);
    assert.ok(out.includes('[-1,-2]'), `computes through the minified bundle: ${out}`);
    await writeFile(path.join(dir, 'consumer.ts'), `import { tensor, init, fromGPUBuffer, type Tensor, type Device } from 'tessera';
export async function f(device: GPUDevice, b: GPUBuffer): Promise<number> {
  const d: Device = await init({ device });
  const x: Tensor = fromGPUBuffer(b, { shape: [4], dtype: 'float32' }).add(tensor([1, 2, 3, 4]));
  const g: GPUBuffer = await x.gpuBuffer({ copy: true });
  return d.caps.maxBuffers + g.size;
}
// @ts-expect-error dtype is required
fromGPUBuffer({} as GPUBuffer, { shape: [4] });
`);
    await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--ignoreConfig', '--noEmit', '--strict', '--module', 'nodenext',
      '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,dom', '--types', 'node', path.join(dir, 'consumer.ts')]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
