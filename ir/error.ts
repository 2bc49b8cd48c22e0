/**
 * TesseraError: the one error type users see for bad input. It names the op, the shapes involved
 * and what to do, and it is thrown at the call that caused it, before any GPU work is queued.
 */
export class TesseraError extends Error {
  readonly op: string;
  constructor(op: string, message: string, fix?: string) {
    super(`${op}: ${message}${fix ? `. Fix: ${fix}` : ''}`);
    this.name = 'TesseraError';
    this.op = op;
  }
}

export const fmtShape = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Throws a TesseraError when `cond` is false. */
export function check(cond: unknown, op: string, message: string | (() => string), fix?: string): asserts cond {
  if (!cond) throw new TesseraError(op, typeof message === 'function' ? message() : message, fix);
}
