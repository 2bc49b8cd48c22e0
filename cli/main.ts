/**
 * `tessera` — look at what the compiler does to a program, from the command line:
 *   tessera explain model.ts   the kernels it compiles to (text; --svg/--dot pictures)
 *   tessera profile model.ts   per-kernel GPU time against this adapter's roofline
 *   tessera tune model.ts      autotune its kernels now and write the tuning cache
 *   tessera info               adapter, limits, features and measured ceilings
 * Modules are described in cli/load.ts. Exit codes: 0 ok, 1 error, 2 bad usage.
 */
import { writeFileSync } from 'node:fs';
import { explain, getDevice, TesseraError } from '../index.ts';
import { analyze } from '../ops/inspect/analyze.ts';
import { compileCaps } from '../ops/inspect/explain.ts';
import { profileWith } from '../ops/inspect/profile.ts';
import { quickCeilings } from '../runtime/ceilings.ts';
import { engine, globalOptions } from '../runtime/engine.ts';
import { chooseSchedule, keyOf, tuning } from '../runtime/tuner.ts';
import { CliError, loadTarget } from './load.ts';

const MODULE_HELP = `The module exports a function and its example arguments (export default (x) => ...; export const inputs = [x]),
tensors, or a model (export const model, with example inputs x and, for a compiled model, labels y: then one
train step is looked at). --export NAME picks an export other than the default.`;

const HELP: Record<string, string> = {
  tessera: `usage: tessera <command> [options]

commands:
  explain <module>   the kernels a program compiles to: fused primitives, buffers, bytes, FLOPs
  profile <module>   run it and time each kernel against this adapter's roofline
  tune <module>      autotune its kernels now and write the tuning cache
  info               the adapter: limits, features, measured copy and fma ceilings

tessera <command> --help for each command's options.`,
  explain: `usage: tessera explain <module> [--export NAME] [--svg FILE] [--dot FILE] [--json] [--wgsl] [--no-fuse]

Prints one row per kernel: the primitives it fuses, what it reads and writes, bytes moved and FLOPs,
and what the same graph costs without fusion.
  --svg FILE   also write the fused graph as an SVG picture
  --dot FILE   also write it as Graphviz DOT
  --json       print the report as JSON instead of text
  --wgsl       print every kernel's WGSL after the table
  --no-fuse    compile without fusion (one kernel per primitive), to compare

${MODULE_HELP}`,
  profile: `usage: tessera profile <module> [--export NAME] [--svg FILE] [--json] [--reps N]

Runs the program and prints each kernel's GPU time, GFLOP/s and GB/s against the copy and fma
ceilings measured now, and the source lines of the ops it fused.
  --svg FILE   also write a roofline chart
  --json       print the report as JSON
  --reps N     timed runs per kernel (default 5; the median is reported)

${MODULE_HELP}`,
  tune: `usage: tessera tune <module> [--export NAME] [--cache FILE] [--budget-ms N] [--min-work N]

Autotunes the program's kernels now (each candidate schedule timed and cross-checked) and writes the
winners to the tuning cache, so later runs start tuned.
  --cache FILE     the cache file (default .tessera-cache/matmul-tuning.json, or TESSERA_TUNE_CACHE)
  --budget-ms N    time budget per kernel (default 4000)
  --min-work N     tune kernels with at least this much work (default ${tuning.minWork}; smaller use the heuristic)

${MODULE_HELP}`,
  info: `usage: tessera info [--json] [--no-ceilings]

Prints the WebGPU adapter, its limits and features, and the copy (GB/s) and fma (GFLOP/s) ceilings
measured now with hand-written kernels.
  --json          as JSON
  --no-ceilings   skip the measurement`,
};

type Opts = Record<string, string | boolean>;
const VALUED = new Set(['export', 'svg', 'dot', 'reps', 'cache', 'budget-ms', 'min-work']);

function parse(argv: readonly string[]): { pos: string[]; opts: Opts } {
  const pos: string[] = [], opts: Opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h') { opts.help = true; continue; }
    if (!a.startsWith('--')) { pos.push(a); continue; }
    const [k, v] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (VALUED.has(k)) {
      const val = v ?? argv[++i];
      if (val === undefined) throw new CliError(`--${k} needs a value`);
      opts[k] = val;
    } else opts[k] = true;
  }
  return { pos, opts };
}

const num = (opts: Opts, k: string, d: number) => {
  if (opts[k] === undefined) return d;
  const v = Number(opts[k]);
  if (!Number.isFinite(v) || v < 0) throw new CliError(`--${k} must be a non-negative number, got ${opts[k]}`);
  return v;
};
const str = (opts: Opts, k: string) => (typeof opts[k] === 'string' ? (opts[k] as string) : undefined);

function write(file: string | undefined, content: string, what: string): void {
  if (!file) return;
  writeFileSync(file, content);
  console.log(`wrote ${what} to ${file}`);
}

async function cmdExplain(pos: string[], opts: Opts): Promise<void> {
  const t = await loadTarget(pos[0], str(opts, 'export'));
  if (opts['no-fuse']) globalOptions.fuse = false;
  const r = await explain(t.target as never, ...t.args);
  if (opts.json) console.log(JSON.stringify(r.toJSON(), null, 1));
  else {
    console.log(`${t.what}\n${r}`);
    if (opts.wgsl) for (const k of r.kernels) console.log(`\n// ---- k${k.index} ${k.name}\n${k.wgsl}`);
  }
  write(str(opts, 'svg'), r.toSVG(), 'the fused graph (SVG)');
  write(str(opts, 'dot'), r.toDOT(), 'the fused graph (DOT)');
}

async function cmdProfile(pos: string[], opts: Opts): Promise<void> {
  const t = await loadTarget(pos[0], str(opts, 'export'));
  const r = await profileWith({ reps: Math.max(1, Math.round(num(opts, 'reps', 5))) }, t.target as never, ...t.args);
  console.log(opts.json ? JSON.stringify(r.toJSON(), null, 1) : `${t.what}\n${r}`);
  write(str(opts, 'svg'), r.toSVG(), 'the roofline (SVG)');
}

async function cmdTune(pos: string[], opts: Opts): Promise<void> {
  const t = await loadTarget(pos[0], str(opts, 'export'));
  if (str(opts, 'cache')) tuning.cacheFile = str(opts, 'cache')!;
  tuning.enabled = true;
  tuning.budgetMs = num(opts, 'budget-ms', tuning.budgetMs);
  tuning.minWork = num(opts, 'min-work', tuning.minWork);
  const { resultNodes } = await import('../ops/inspect/analyze.ts');
  const { caps, maxBuffers } = await compileCaps();
  const a = analyze(resultNodes('tune', t.target as never, t.args), caps, { fuse: globalOptions.fuse ?? true, maxBuffers });
  const e = await engine();
  console.log(`${t.what}: ${a.scheduled.length} kernels; tuning cache ${tuning.cacheFile || '(none)'}`);
  for (let i = 0; i < a.scheduled.length; i++) {
    const t0 = performance.now();
    const s = await chooseSchedule(a.scheduled[i]!, e);
    const ms = performance.now() - t0;
    const took = ms > 50 ? ` (tuned in ${(ms / 1000).toFixed(1)} s)` : '';
    console.log(`  k${i} ${a.kernels[i]!.name}: ${s ? keyOf(s) : 'no schedule to choose'}${took}`);
  }
}

async function cmdInfo(opts: Opts): Promise<void> {
  const dev = await getDevice();
  const e = await engine();
  const c = opts['no-ceilings'] ? null : await quickCeilings(e);
  const caps = { ...dev.caps };
  const features = [...dev.gpu.features].sort();
  if (opts.json) { console.log(JSON.stringify({ adapter: dev.adapterInfo, caps, features, ceilings: c }, null, 1)); return; }
  const i = dev.adapterInfo;
  console.log(`adapter: ${[i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ') || 'unknown'}`);
  console.log(`limits: storage buffers per kernel ${caps.maxBuffers}, binding ${caps.maxBindingSize} B, buffer ${caps.maxBufferSize} B, ` +
    `workgroup ${caps.maxWorkgroupSize} invocations, ${caps.maxWorkgroupsPerDim} workgroups per dimension`);
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  console.log(`features used: shader-f16 ${yes(caps.f16)}, timestamp-query ${yes(caps.timestamps)}, subgroups ${yes(caps.subgroups)}`);
  if (features.length) console.log(`device features: ${features.join(', ')}`);
  if (c) console.log(`ceilings (measured now): copy ${c.copyGBs.toFixed(2)} GB/s [${c.copy}], fma ${c.fmaGFLOPs.toFixed(2)} GFLOP/s [${c.fma}]`);
}

/** Runs `tessera argv...`; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') { console.log(HELP[rest[0] ?? ''] ?? HELP.tessera); return 0; }
    if (!(cmd in HELP) || cmd === 'tessera') { console.error(`tessera: unknown command '${cmd}'\n\n${HELP.tessera}`); return 2; }
    const { pos, opts } = parse(rest);
    if (opts.help) { console.log(HELP[cmd]); return 0; }
    if (cmd === 'explain') await cmdExplain(pos, opts);
    else if (cmd === 'profile') await cmdProfile(pos, opts);
    else if (cmd === 'tune') await cmdTune(pos, opts);
    else await cmdInfo(opts);
    return 0;
  } catch (e) {
    if (e instanceof CliError) { console.error(`tessera ${cmd}: ${e.message}`); return e.message.startsWith('--') ? 2 : 1; }
    if (e instanceof TesseraError) { console.error(`tessera ${cmd}: ${e.message}`); return 1; }
    throw e;
  }
}
