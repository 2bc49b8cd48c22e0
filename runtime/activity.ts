/**
 * User activity: realizations and jit calls in progress. Background tuning (runtime/tuner.ts)
 * runs its slices only when none is, so it never lands inside a user's call or submit.
 */
let active = 0, started = 0;
let waiters: (() => void)[] = [];

/** Runs a user call, marking it in progress until it settles. */
export async function trackCall<T>(call: () => Promise<T>): Promise<T> {
  active++;
  started++;
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
