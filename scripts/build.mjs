#!/usr/bin/env node
// `npm run build`: the package as it ships (see README "Installing").
//  1. tsc (tsconfig.build.json) compiles the library sources to ES2022 modules in dist/, one .js, .d.ts
//     and source map per source file, imports rewritten from .ts to .js (Node, bundlers and browsers load them);
//  2. relative `.ts` specifiers left in the .d.ts files are rewritten to `.js`, so consumers need no TS flags;
//  3. esbuild bundles the core into dist/tessera.min.js (one minified ESM file for <script type="module">).
// Only what it writes is replaced: dist/browser-test and other folders are left alone.
import { execFileSync } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const owned = ['index.js', 'index.d.ts', 'index.js.map', 'core.js', 'core.d.ts', 'core.js.map', 'tessera.min.js', 'tessera.min.js.map', 'ir', 'codegen', 'runtime', 'ops', 'interop'];
await Promise.all(owned.map((p) => rm(path.join(dist, p), { recursive: true, force: true })));

const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

async function* files(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}
for (const top of owned) {
  const p = path.join(dist, top);
  const list = top.includes('.') ? [p] : await readdir(p).then(() => files(p), () => []);
  for await (const f of list) {
    if (!f.endsWith('.d.ts')) continue;
    const text = await readFile(f, 'utf8').catch(() => null);
    const relativeTs = /(from\s+|import\s*\(\s*|import\s+|declare module\s+)(['"])(\.{1,2}\/[^'"]*)\.ts\2/g;
    if (text !== null) await writeFile(f, text.replace(relativeTs, '$1$2$3.js$2'));
  }
}

const esbuild = await import('esbuild');
// keepNames: nn's layer registry (saved architectures) knows layer classes by name.
await esbuild.build({
  entryPoints: [path.join(root, 'index.ts')], outfile: path.join(dist, 'tessera.min.js'), bundle: true, minify: true, keepNames: true, sourcemap: true,
  format: 'esm', platform: 'browser', target: 'es2022', external: ['webgpu', 'node:*'], logLevel: 'warning',
});
console.log('build: dist/ (ESM + .d.ts per module) and dist/tessera.min.js');
