/**
 * User activity: realizations and jit calls in progress (a program may still be compiling).
 * Background tuning (runtime/tuner.ts) runs its slices only when none is, so it never lands inside
 * a user's call or submit; `flush()` waits for all of them and submits their work, so the GPU
 * queue's order then holds: the application's later submits and `queue.writeBuffer` calls come
 * after Tessera's work.
 */
import { submitOpen } from './submit.ts';

let active = 0, started = 0;
let waiters: (() => void)[] = [];
const inFlight = new Set<Promise<unknown>>();

/** Runs a user call, marking it in progress until it settles. */
export function trackCall<T>(call: () => Promise<T>): Promise<T> {
  const p = run(call);
  inFlight.add(p);
  const done = () => { inFlight.delete(p); };
  p.then(done, done);
  return p;
}

/** Resolves once everything Tessera was asked to compute so far has been submitted to the device queue. */
export async function flush(): Promise<void> {
  while (inFlight.size) await Promise.allSettled([...inFlight]);
  submitOpen();
}

let lastStart = -Infinity;
async function run<T>(call: () => Promise<T>): Promise<T> {
  active++;
  started++;
  lastStart = performance.now();
  try {
    return await call();
  } finally {
    if (--active === 0) {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    }
  }
}

/** How many user calls have started: a timed tuning run that saw this change was overlapped. */
export const callsStarted = () => started;
/** Milliseconds since the last user call started (0 while one is in progress; Infinity before the first). */
export const sinceLastCall = () => (active ? 0 : performance.now() - lastStart);

/**
 * Resolves on a later macrotask at which no user call is in progress. Its timer does not keep a
 * Node process alive: background work never delays the exit of a script that is done.
 */
export async function whenIdle(): Promise<void> {
  for (;;) {
    await new Promise((r) => (setTimeout(r, 0) as { unref?: () => void }).unref?.());
    if (active === 0) return;
    await new Promise<void>((r) => waiters.push(r));
  }
}
