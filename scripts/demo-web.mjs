#!/usr/bin/env node
// `npm run demo:web`: bundles demo/web/main.ts with esbuild into dist/demo-web/ (with the page and
// its stylesheet), serves it on 127.0.0.1 (a secure context, which WebGPU needs) with the digits
// data under /data/, and prints the URL. --port N picks the port (default: 8080, else any free one).
// scripts/demo-web-test.mjs imports buildDemo and serveDemo.
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const demoDir = path.join(root, 'dist/demo-web');
const dataDir = path.join(root, 'examples/data');

export async function buildDemo() {
  const esbuild = await import('esbuild');
  await rm(demoDir, { recursive: true, force: true });
  await mkdir(demoDir, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(root, 'demo/web/main.ts')], outfile: path.join(demoDir, 'bundle.js'),
    format: 'esm', platform: 'browser', target: 'es2022', bundle: true, external: ['webgpu'], sourcemap: true, logLevel: 'warning',
  });
  for (const f of ['index.html', 'style.css']) await copyFile(path.join(root, 'demo/web', f), path.join(demoDir, f));
}

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.gz': 'application/octet-stream' };

/** Serves the built demo (and /data/ from examples/data) on 127.0.0.1:port (0: any free port). */
export function serveDemo(port = 0) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    const [dir, sub] = rel.startsWith('/data/') ? [dataDir, rel.slice(5)] : [demoDir, rel];
    const file = path.join(dir, path.normalize(sub));
    if (!file.startsWith(dir + path.sep)) return void res.writeHead(403).end('forbidden');
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const want = i > 0 ? Number(process.argv[i + 1]) : 8080;
  await buildDemo();
  const server = await serveDemo(want).catch(() => serveDemo(0));
  console.log(`Tessera demo: http://127.0.0.1:${server.address().port}/  (Ctrl-C to stop; needs a browser with WebGPU)`);
}
