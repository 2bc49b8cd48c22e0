/**
 * The persistent plan cache: a compiled program's plan (each step's WGSL, grid and buffer slots,
 * the slot sizes and the liveness plan), stored per graph structure, so a second process running
 * the same program skips scheduling and code generation and goes straight to pipeline creation
 * (which the driver's own shader cache may shorten too).
 *
 * An entry is keyed by a SHA-256 of: the graph's structure key (runtime/program.ts structureKey,
 * with the compile options), the adapter and the device limits codegen reads, the tuning mode
 * and threshold, and a fingerprint of the compiler itself — in Node, a hash of the sources of
 * ir/, codegen/ and runtime/ as installed, so an edited or upgraded compiler never reads plans of
 * another. Each file holds its key and a SHA-256 of its contents; an entry that does not parse,
 * whose checksum or key differs, or that does not fit the graph it is loaded for (inputs,
 * outputs, parameters, slot numbers) is ignored and replaced.
 *
 * Node only: files in `.tessera-cache/plans/` beside the tuning cache (`TESSERA_PLAN_CACHE=dir`
 * moves it, `TESSERA_PLAN_CACHE=off` or `planCache.enabled = false` turns it off), at most
 * `planCache.maxBytes` in all (least recently used files are removed first). Programs of fewer
 * than `planCache.minKernels` kernels (most eager expressions) are not stored. In browsers the
 * cache is skipped: a bundle has no source fingerprint to key it by.
 */
import { counters } from './stats.ts';

const env = (k: string) => (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[k];
const envDir = env('TESSERA_PLAN_CACHE');
const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

export const planCache = {
  /** Off with TESSERA_PLAN_CACHE=off (or 0, or empty) and in browsers. */
  enabled: isNode && !['off', '0', ''].includes(envDir ?? 'on'),
  /** Where the plan files are (relative paths: to the working directory, as the tuning cache). */
  dir: envDir && !['off', '0', ''].includes(envDir) ? envDir : '.tessera-cache/plans',
  /** The cache's size bound; least recently used plans are removed past it. */
  maxBytes: 64 * 2 ** 20,
  /** Programs with fewer kernels are compiled every time (compiling them is cheaper than a file). */
  minKernels: 8,
};

/** Bumped when the entry format changes. */
const FORMAT = 1;

/** One step of a stored plan: its WGSL (an index into the entry's distinct WGSL texts) and where it binds. */
export interface PlanStep {
  w: number; name: string; grid: [number, number, number]; threads: number;
  slots: number[]; release: number[]; params?: { offset: number; pos: number[] };
  /** Background tuning of this kernel had not finished when the plan was stored. */
  pending?: boolean;
}
export interface Plan {
  wgsl: string[]; steps: PlanStep[]; slotBytes: number[]; inputSlots: number; outputs: number[];
  paramBytes: number; paramCount: number;
}
interface Entry { format: number; key: string; plan: Plan; sum: string }

type NodeModules = { fs: typeof import('node:fs/promises'); path: typeof import('node:path'); crypto: typeof import('node:crypto') };
let modules: Promise<NodeModules> | null = null;
// In a try block: bundlers for browsers leave these imports unresolved instead of failing (the cache is off there).
const node = () => (modules ??= (async () => {
  try {
    const fs = await import('node:fs/promises');
    const path = await import('node:path');
    const crypto = await import('node:crypto');
    return { fs, path, crypto };
  } catch (e) { modules = null; throw e; }
})());
const sha256 = (crypto: NodeModules['crypto'], s: string) => crypto.createHash('sha256').update(s).digest('hex');

let fingerprintP: Promise<string | null> | null = null;
/** A hash of the compiler's installed sources (ir/, ir/passes, ir/schedule, codegen/, runtime/); null if they cannot be read. */
function fingerprint(): Promise<string | null> {
  return (fingerprintP ??= (async () => {
    try {
      const { fs, path, crypto } = await node();
      const { fileURLToPath } = await import('node:url');
      const root = fileURLToPath(new URL('..', import.meta.url));
      const h = crypto.createHash('sha256');
      for (const dir of ['ir', 'ir/passes', 'ir/schedule', 'codegen', 'runtime']) {
        const names = (await fs.readdir(path.join(root, dir))).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts')).sort();
        for (const f of names) h.update(`${dir}/${f}\n`).update(await fs.readFile(path.join(root, dir, f)));
      }
      return h.digest('hex');
    } catch { return null; }
  })());
}

/** Starts reading what plan keys need (the compiler's fingerprint), so the first compile does not wait for it. */
export function preparePlanCache(): void {
  if (planCache.enabled) void fingerprint();
}

/** The file of a plan for the full key `key` (the structure key and everything else it depends on), or null with the cache off. */
async function fileFor(key: string): Promise<{ file: string; hash: string } | null> {
  if (!planCache.enabled) return null;
  const fp = await fingerprint();
  if (!fp) return null;
  const { path, crypto } = await node();
  const hash = sha256(crypto, `${FORMAT}\n${fp}\n${key}`);
  return { file: path.join(planCache.dir, `${hash}.json`), hash };
}

const isInt = (v: unknown, lo = 0, hi = 2 ** 31): v is number => Number.isInteger(v) && (v as number) >= lo && (v as number) < hi;
const ints = (a: unknown, lo = 0, hi = 2 ** 31): a is number[] => Array.isArray(a) && a.every((v) => isInt(v, lo, hi));

/** Whether `p` is a well-formed plan for a graph with these inputs, outputs and parameter constants. */
function fits(p: Plan, inputs: number, outputs: number, params: number): boolean {
  if (!p || !Array.isArray(p.wgsl) || !p.wgsl.every((w) => typeof w === 'string') || !Array.isArray(p.steps)) return false;
  const slots = Array.isArray(p.slotBytes) ? p.slotBytes.length : -1;
  if (!ints(p.slotBytes, 1) || p.inputSlots !== inputs || inputs > slots || !ints(p.outputs, 0, slots) || p.outputs.length !== outputs) return false;
  if (p.paramCount !== params || !isInt(p.paramBytes)) return false;
  return p.steps.every((s) => s && isInt(s.w, 0, p.wgsl.length) && typeof s.name === 'string' && ints(s.grid, 1) && s.grid.length === 3 &&
    isInt(s.threads, 1, 2 ** 53) && ints(s.slots, 0, slots) && ints(s.release, 0, slots) &&
    (s.params === undefined || (isInt(s.params.offset, 0, p.paramBytes) && ints(s.params.pos, 0, params) && s.params.pos.length > 0)));
}

/** The stored plan for `key`, if there is a valid one that fits; a bad entry counts as rejected. */
export async function loadPlan(key: string, inputs: number, outputs: number, params: number): Promise<Plan | null> {
  const f = await fileFor(key);
  if (!f) return null;
  const { fs, crypto } = await node();
  let text: string;
  try { text = await fs.readFile(f.file, 'utf8'); } catch { counters.planCacheMisses++; return null; }
  try {
    const e = JSON.parse(text) as Entry;
    if (e.format === FORMAT && e.key === f.hash && e.sum === sha256(crypto, JSON.stringify(e.plan)) && fits(e.plan, inputs, outputs, params)) {
      const now = new Date();
      fs.utimes(f.file, now, now).catch(() => {}); // recently used: kept longest
      return e.plan;
    }
  } catch { /* not JSON: rejected below */ }
  counters.planCacheRejected++;
  return null;
}

let writes = 0;
const storing = new Set<Promise<void>>();
/** Resolves once every plan being stored now is written (tests and benches). */
export async function planCacheIdle(): Promise<void> {
  while (storing.size) await Promise.allSettled([...storing]);
}

/** Stores the plan for `key` (atomically: a temporary file renamed into place); failures are ignored. */
export function storePlan(key: string, plan: Plan): Promise<void> {
  const p = write(key, plan);
  storing.add(p);
  return p.finally(() => storing.delete(p));
}

async function write(key: string, plan: Plan): Promise<void> {
  try {
    const f = await fileFor(key);
    if (!f) return;
    const { fs, crypto } = await node();
    const entry: Entry = { format: FORMAT, key: f.hash, plan, sum: sha256(crypto, JSON.stringify(plan)) };
    await fs.mkdir(planCache.dir, { recursive: true });
    const tmp = `${f.file}.${(globalThis as { process?: { pid?: number } }).process?.pid ?? 0}.${writes}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(entry));
    await fs.rename(tmp, f.file);
    if (writes++ % 32 === 0) await evictPlans();
  } catch { /* a read-only place: compile each time */ }
}

/** Removes the least recently used plans until the cache fits maxBytes, and stale temporary files (every 32 writes). */
export async function evictPlans(): Promise<void> {
  const { fs, path } = await node();
  const files = await Promise.all((await fs.readdir(planCache.dir)).filter((n) => n.endsWith('.json') || n.endsWith('.tmp')).map(async (n) => {
    const file = path.join(planCache.dir, n);
    try { const s = await fs.stat(file); return { file, size: s.size, time: s.mtimeMs, tmp: n.endsWith('.tmp') }; } catch { return null; }
  }));
  const live = files.filter((f): f is NonNullable<typeof f> => f !== null);
  let total = live.reduce((a, f) => a + f.size, 0);
  for (const f of live.sort((a, b) => a.time - b.time)) {
    if (total <= planCache.maxBytes && !(f.tmp && Date.now() - f.time > 60_000)) continue;
    await fs.rm(f.file, { force: true }).catch(() => {});
    total -= f.size;
  }
}
