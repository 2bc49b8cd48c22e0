/**
 * Work in flight: realizations and jit calls that may not have submitted yet (a program can be
 * compiling). `flush()` waits until all of them have, so the GPU queue's order then holds: the
 * application's later submits and `queue.writeBuffer` calls come after Tessera's work.
 */
const inFlight = new Set<Promise<unknown>>();

/** Registers `p` (a realization) until it settles; returns it. */
export function track<T>(p: Promise<T>): Promise<T> {
  inFlight.add(p);
  const done = () => { inFlight.delete(p); };
  p.then(done, done);
  return p;
}

/** Resolves once everything Tessera was asked to compute so far has been submitted to the device queue. */
export async function flush(): Promise<void> {
  while (inFlight.size) await Promise.allSettled([...inFlight]);
}
