/**
 * Where each op was called: while capture is on, every node an op makes (or gets back from the
 * hash-consing table) records the source line that asked for it, from a stack trace. Off (the
 * default), nothing is recorded and node creation pays one null check (ir/node.ts `nodeHook`).
 *
 * A node's source is two frames of its stack: `user`, the first line outside the library (your
 * code), and `via`, the innermost library function above the primitive-building helpers (e.g.
 * `softmax`, `Dense.apply`), so kernels of a model's train step still say which layer made them.
 * Nodes made by graph passes or the runtime record nothing (they come from no op call).
 */
import { nodeHook, type Node } from '../../ir/node.ts';

export interface SourceSite { user?: string; via?: string }

const sites = new WeakMap<Node, SourceSite>();
const ROOT = new URL('../../', import.meta.url).href.replace(/^file:\/\//, '');
const LIBRARY = ['ops/', 'ir/', 'runtime/', 'codegen/', 'cli/', 'bin/', 'index.ts'].map((d) => ROOT + d);
/** Library files that only build primitives: never a useful `via`. */
const PLUMBING = ['graph.ts', 'tensor.ts', 'methods.ts', 'elementwise.ts', 'reduce.ts', 'movement.ts', 'linalg.ts', 'creation.ts',
  'transforms.ts', 'pytree.ts']
  .map((f) => ROOT + 'ops/' + f);

interface Frame { fn: string; file: string; line: string }
const FRAME = /^\s*at (?:(.*?) \()?(.*?):(\d+):\d+\)?$/;

function frames(stack: string): Frame[] {
  const out: Frame[] = [];
  for (const l of stack.split('\n').slice(1)) {
    const m = FRAME.exec(l);
    if (!m) continue;
    const fn = (m[1] ?? '').replace(/^async /, '').replace(/^Object\./, '');
    out.push({ fn, file: m[2]!.replace(/^async /, '').replace(/^file:\/\//, ''), line: m[3]! });
  }
  return out;
}

const rel = (f: Frame) => `${f.file.startsWith(ROOT) ? f.file.slice(ROOT.length) : f.file}:${f.line}`;
const inLibrary = (f: Frame) => LIBRARY.some((d) => f.file.startsWith(d));

/** The source site of a stack captured at node creation, or null when no op call made the node. */
export function siteOf(stack: string): SourceSite | null {
  const fs = frames(stack);
  if (fs.some((f) => f.file.startsWith(ROOT + 'runtime/') || f.file.startsWith(ROOT + 'ir/passes/'))) return null;
  const site: SourceSite = {};
  for (const f of fs) {
    if (f.file.startsWith('node:') || f.file.includes('/node_modules/')) continue;
    if (!inLibrary(f)) { site.user = rel(f); break; }
    if (!site.via && f.file.startsWith(ROOT + 'ops/') && !f.file.startsWith(ROOT + 'ops/inspect/') && !PLUMBING.includes(f.file))
      site.via = `${f.fn || '<anonymous>'} ${rel(f)}`;
  }
  return site.user || site.via ? site : null;
}

function record(n: Node): void {
  if (sites.has(n) || n.op === 'input' || n.op === 'const') return;
  const site = siteOf(new Error().stack ?? '');
  if (site) sites.set(n, site);
}

/** Stack depth while capturing: library frames alone can fill V8's default of 10 before the user's line. */
const DEPTH = 64;
let savedLimit: number | undefined;

/** Turns source capture on or off; returns the previous setting. */
export function captureSources(on: boolean): boolean {
  const was = nodeHook.onMake === record;
  if (on && !was) { savedLimit = Error.stackTraceLimit; Error.stackTraceLimit = Math.max(DEPTH, savedLimit ?? 0); }
  if (!on && was && savedLimit !== undefined) Error.stackTraceLimit = savedLimit;
  nodeHook.onMake = on ? record : null;
  return was;
}

/** Runs `f` with capture on (restoring the previous setting after). */
export function withSources<T>(f: () => T): T {
  const was = captureSources(true);
  try { return f(); } finally { captureSources(was); }
}

export const sourceOf = (n: Node): SourceSite | undefined => sites.get(n);

/** `via ← user`, the way reports print a site. */
export const fmtSite = (s: SourceSite) => [s.via, s.user].filter(Boolean).join(' ← ');
