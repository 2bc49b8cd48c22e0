/**
 * The progress display of fit/evaluate, in Keras's format:
 *
 *   Epoch 3/10
 *   45/45 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.9512 - loss: 0.1432 - val_accuracy: ...
 *
 * verbose 0 prints nothing. verbose 1 on a terminal redraws a bar during the epoch (at most
 * every 100 ms: progress only, since reading the running loss would cost a readback per batch)
 * and finishes it with the epoch's logs; when stdout is not a terminal (a pipe, a CI log, a
 * browser console) it prints one final line per epoch, as verbose 2 does. On a terminal, a small
 * loss chart (plot.ts) sits under the bar unless `plot` is false.
 */
import { LiveLossChart } from './plot.ts';

export type Verbosity = 0 | 1 | 2 | 'auto';
export type Logs = Record<string, number>;

interface Sink { write(s: string): void; isTTY: boolean; columns: number }
function defaultSink(): Sink {
  const out = (globalThis as { process?: { stdout?: { write(s: string): unknown; isTTY?: boolean; columns?: number } } }).process?.stdout;
  if (out) return { write: (s) => { out.write(s); }, isTTY: !!out.isTTY, columns: out.columns ?? 100 };
  let line = '';
  return { write: (s) => { line += s; const parts = line.split('\n'); line = parts.pop()!; for (const p of parts) console.log(p); }, isTTY: false, columns: 100 };
}

/** '0.1234' style values; tiny or huge ones in exponent form. */
const fmtValue = (v: number) => (v !== 0 && (Math.abs(v) < 1e-4 || Math.abs(v) >= 1e6) ? v.toExponential(4) : v.toFixed(4));
export const fmtLogs = (logs: Logs) => Object.keys(logs).sort().map((k) => `${k}: ${fmtValue(logs[k]!)}`).join(' - ');

function fmtTime(ms: number, steps: number): string {
  const per = ms / Math.max(1, steps);
  const perStr = per >= 1000 ? `${(per / 1000).toFixed(0)}s/step` : per >= 1 ? `${per.toFixed(0)}ms/step` : `${(per * 1000).toFixed(0)}us/step`;
  return `${Math.round(ms / 1000)}s ${perStr}`;
}

const BAR = 20;
const bar = (done: number, total: number) => {
  const full = Math.round((BAR * done) / Math.max(1, total));
  return '━'.repeat(full) + '─'.repeat(BAR - full);
};

export class Progress {
  private sink: Sink;
  private start = 0;
  private lastDraw = 0;
  private readonly live: boolean;
  private readonly chart: LiveLossChart | null;
  constructor(readonly verbose: Verbosity, readonly epochs: number, readonly steps: number, sink?: Sink, plot = true) {
    this.sink = sink ?? defaultSink();
    this.live = (verbose === 1 || verbose === 'auto') && this.sink.isTTY;
    this.chart = this.live && plot ? new LiveLossChart(Math.min(60, Math.max(20, this.sink.columns - 50))) : null;
  }
  get quiet() { return this.verbose === 0; }

  epochBegin(epoch: number): void {
    this.start = performance.now();
    this.lastDraw = this.start;
    const header = `Epoch ${epoch + 1}/${this.epochs}`;
    if (this.live) this.sink.write(this.chart ? this.chart.epochBegin(header) : `${header}\n`);
  }
  /** After batch `step` (0-based) was queued. */
  batchEnd(step: number): void {
    if (!this.live) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && step + 1 < this.steps) return;
    this.lastDraw = now;
    this.sink.write(`\r${this.counter(step + 1)} ${bar(step + 1, this.steps)} ${fmtTime(now - this.start, step + 1)}\x1b[K`);
  }
  epochEnd(epoch: number, logs: Logs): void {
    if (this.quiet) return;
    const ms = performance.now() - this.start;
    const tail = `${fmtTime(ms, this.steps)}${Object.keys(logs).length ? ` - ${fmtLogs(logs)}` : ''}`;
    if (this.live) this.sink.write(`\r${this.counter(this.steps)} ${bar(this.steps, this.steps)} ${tail}\x1b[K\n${this.chart?.epochEnd(logs) ?? ''}`);
    else this.sink.write(`Epoch ${epoch + 1}/${this.epochs} - ${this.steps} steps - ${tail}\n`);
  }
  /** One line for evaluate(). */
  done(logs: Logs, ms: number): void {
    if (this.quiet) return;
    this.sink.write(`${this.counter(this.steps)} ${bar(this.steps, this.steps)} ${fmtTime(ms, this.steps)} - ${fmtLogs(logs)}\n`);
  }
  private counter(n: number) { const w = String(this.steps).length; return `${String(n).padStart(w)}/${this.steps}`; }
}
