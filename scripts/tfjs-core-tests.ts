/**
 * Runs a selection of tfjs-core's own shipped op specs (node_modules/@tensorflow/tfjs-core/dist/
 * ops/*_test.js, written for Jasmine) against the 'tessera' backend, under the small harness in
 * scripts/tfjs-core/jasmine-lite.ts, and reports how many pass. The specs are ESM with
 * extensionless imports, so they are bundled with esbuild first (tfjs-core's ESM build, its
 * gradients, the backend), into .cache/tfjs-core-tests/.
 *
 * Run: npx tsx scripts/tfjs-core-tests.ts [spec names, e.g. relu add]   (not part of npm test; VERBOSE=1 lists each spec)
 */
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DEFAULT = ['abs', 'relu', 'exp', 'log', 'sqrt', 'square', 'sigmoid', 'tanh', 'neg', 'floor', 'arithmetic', 'binary_ops', 'equal', 'greater',
  'less_equal', 'logical_and', 'clip_by_value', 'softmax', 'sum', 'mean', 'max', 'min', 'arg_max', 'mat_mul', 'transpose', 'slice', 'concat',
  'tile', 'gather', 'one_hot', 'pad', 'stack', 'expand_dims', 'squeeze', 'where', 'batchnorm', 'conv2d', 'max_pool', 'avg_pool', 'elu',
  'leaky_relu', 'rsqrt', 'log1p', 'unsorted_segment_sum', 'depthwise_conv2d', 'zeros_like', 'ones_like', 'fill', 'range'];
const names = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const core = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/package.json'));
const out = join(root, '.cache/tfjs-core-tests');
mkdirSync(out, { recursive: true });
const rel = (p: string) => JSON.stringify(p);
writeFileSync(join(out, 'env.ts'), `import { setTestEnvs } from ${rel(join(core, 'dist/jasmine_util.js'))};
setTestEnvs([{ name: 'tessera', backendName: 'tessera', isDataSync: false }]);\n`);
writeFileSync(join(out, 'entry.ts'), [
  `import ${rel(join(root, 'scripts/tfjs-core/jasmine-lite.ts'))};`,
  `import ${rel(join(core, 'dist/register_all_gradients.js'))};`,
  `import ${rel(join(core, 'dist/public/chained_ops/register_all_chained_ops.js'))};`,
  `import ${rel(join(root, 'interop/tfjs/index.ts'))};`,
  `import './env.ts';`,
  ...names.map((n) => `import ${rel(join(core, `dist/ops/${n}_test.js`))};`),
  `export { runAll } from ${rel(join(root, 'scripts/tfjs-core/jasmine-lite.ts'))};`,
].join('\n'));
// jasmine_util.js requires jasmine-core only for its timeout setting: a stub stands in for it.
const jasmineStub = { name: 'jasmine-stub', setup(b: import('esbuild').PluginBuild) {
  b.onResolve({ filter: /^jasmine-core\// }, (a) => ({ path: a.path, namespace: 'jasmine-stub' }));
  b.onLoad({ filter: /.*/, namespace: 'jasmine-stub' }, () => ({ contents: 'module.exports = { core: () => ({}) };', loader: 'js' }));
} };
await build({ entryPoints: [join(out, 'entry.ts')], bundle: true, format: 'esm', platform: 'node', mainFields: ['module', 'main'],
  external: ['webgpu'], outfile: join(out, 'bundle.mjs'), logLevel: 'error', ignoreAnnotations: true, plugins: [jasmineStub],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
const { runAll } = await import(pathToFileURL(join(out, 'bundle.mjs')).href) as typeof import('./tfjs-core/jasmine-lite.ts');

const results = await runAll(60_000, (r) => { if (process.env.VERBOSE) console.log(`${r.ok ? 'PASS' : 'FAIL'} ${r.name}${r.error ? `: ${r.error}` : ''}`); });
const bySuite = new Map<string, { pass: number; fail: number }>();
for (const r of results) {
  const suite = r.name.split(' tessera ')[0]!;
  const s = bySuite.get(suite) ?? { pass: 0, fail: 0 };
  if (r.ok) s.pass++; else s.fail++;
  bySuite.set(suite, s);
}
for (const [suite, s] of bySuite) console.log(`${suite.padEnd(28)} ${s.pass}/${s.pass + s.fail}`);
const failed = results.filter((r) => !r.ok);
console.log(`tfjs-core specs on 'tessera': ${results.length - failed.length} of ${results.length} passed (${names.length} spec files)`);
