/**
 * A small Jasmine-compatible harness for tfjs-core's shipped op specs (dist/ops/*_test.js):
 * describe/it/xit/beforeAll/afterAll/beforeEach/afterEach and the expect matchers those specs
 * use. Installed as globals before the specs load; `runAll()` runs what they registered.
 */
type Fn = () => unknown | Promise<unknown>;
interface Suite { name: string; specs: { name: string; fn: Fn; skip: boolean }[]; children: Suite[]; beforeAll: Fn[]; afterAll: Fn[]; beforeEach: Fn[]; afterEach: Fn[] }
const mk = (name: string): Suite => ({ name, specs: [], children: [], beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] });
const root = mk('');
let cur = root;

const eq = (a: unknown, b: unknown): boolean => {
  if (Object.is(a, b) || a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => eq((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
};
function matchers(actual: unknown, negate: boolean) {
  const ok = (c: boolean, msg: string) => { if (c === negate) throw new Error(`expected ${negate ? 'not ' : ''}${msg}`); };
  const show = (v: unknown) => { try { return JSON.stringify(v); } catch { return String(v); } };
  const throws = (): unknown => { try { (actual as () => unknown)(); } catch (e) { return e ?? new Error('thrown'); } return undefined; };
  return {
    toEqual: (b: unknown) => ok(eq(actual, b), `${show(actual)} to equal ${show(b)}`),
    toBe: (b: unknown) => ok(Object.is(actual, b), `${show(actual)} to be ${show(b)}`),
    toBeCloseTo: (b: number, d = 2) => ok(Math.abs((actual as number) - b) < 10 ** -d / 2, `${actual} to be close to ${b}`),
    toBeGreaterThan: (b: number) => ok((actual as number) > b, `${actual} > ${b}`),
    toBeGreaterThanOrEqual: (b: number) => ok((actual as number) >= b, `${actual} >= ${b}`),
    toBeLessThan: (b: number) => ok((actual as number) < b, `${actual} < ${b}`),
    toBeLessThanOrEqual: (b: number) => ok((actual as number) <= b, `${actual} <= ${b}`),
    toBeNull: () => ok(actual === null, `${show(actual)} to be null`),
    toBeUndefined: () => ok(actual === undefined, `${show(actual)} to be undefined`),
    toBeDefined: () => ok(actual !== undefined, `${show(actual)} to be defined`),
    toBeTruthy: () => ok(!!actual, `${show(actual)} to be truthy`),
    toBeFalsy: () => ok(!actual, `${show(actual)} to be falsy`),
    toBeTrue: () => ok(actual === true, `${show(actual)} to be true`),
    toBeFalse: () => ok(actual === false, `${show(actual)} to be false`),
    toBeNaN: () => ok(Number.isNaN(actual), `${show(actual)} to be NaN`),
    toContain: (b: unknown) => ok((actual as unknown[]).includes(b), `${show(actual)} to contain ${show(b)}`),
    toThrow: () => ok(throws() !== undefined, 'a throw'),
    toThrowError: (m?: string | RegExp) => {
      const e = throws(), msg = (e as Error | undefined)?.message ?? '';
      ok(e !== undefined && (m === undefined || (typeof m === 'string' ? msg.includes(m) : m.test(msg))), `an error ${m ?? ''} (got ${msg || 'none'})`);
    },
    nothing: () => {},
  };
}
function expect(actual?: unknown) { return { ...matchers(actual, false), not: matchers(actual, true) }; }

const g = globalThis as Record<string, unknown>;
Object.assign(g, {
  describe: (name: string, body: () => void) => { const s = mk(name); cur.children.push(s); const prev = cur; cur = s; body(); cur = prev; },
  it: (name: string, fn: Fn) => { cur.specs.push({ name, fn, skip: false }); },
  xit: (name: string, fn: Fn) => { cur.specs.push({ name, fn, skip: true }); },
  beforeAll: (f: Fn) => { cur.beforeAll.push(f); }, afterAll: (f: Fn) => { cur.afterAll.push(f); },
  beforeEach: (f: Fn) => { cur.beforeEach.push(f); }, afterEach: (f: Fn) => { cur.afterEach.push(f); },
  expect, pending: () => { throw new Error('pending'); }, fail: (m: string) => { throw new Error(m); },
  jasmine: { DEFAULT_TIMEOUT_INTERVAL: 5000 },
  spyOn: () => { throw new Error('spyOn is not supported by this harness'); },
});

export interface Outcome { name: string; ok: boolean; error?: string }

const call = async (f: Fn, ms: number) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([Promise.resolve().then(f), new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`timeout ${ms} ms`)), ms); })]);
  } finally { clearTimeout(timer); }
};

/** Runs every registered spec; `each` hooks of enclosing suites run around each spec. */
export async function runAll(timeoutMs: number, onResult: (o: Outcome) => void = () => {}): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const push = (o: Outcome) => { out.push(o); onResult(o); };
  const run = async (s: Suite, path: string, each: { before: Fn[]; after: Fn[] }) => {
    const name = path ? `${path} > ${s.name}` : s.name;
    const hooks = { before: [...each.before, ...s.beforeEach], after: [...s.afterEach, ...each.after] };
    for (const f of s.beforeAll) await call(f, timeoutMs);
    for (const spec of s.specs) {
      if (spec.skip) continue;
      try {
        for (const f of hooks.before) await call(f, timeoutMs);
        try { await call(spec.fn, timeoutMs); } finally { for (const f of hooks.after) await call(f, timeoutMs); }
        push({ name: `${name} > ${spec.name}`, ok: true });
      } catch (e) {
        push({ name: `${name} > ${spec.name}`, ok: false, error: String((e as Error)?.message ?? e).split('\n')[0] });
      }
    }
    for (const c of s.children) await run(c, name, hooks);
    for (const f of s.afterAll) await call(f, timeoutMs);
  };
  await run(root, '', { before: [], after: [] });
  return out;
}
