/**
 * A compact loss chart for the terminal, drawn by fit under its progress bar (only on a
 * terminal, see progress.ts): loss and val_loss per epoch as braille dot lines (each character
 * is 2 × 4 dots), coloured with ANSI codes, with the range on the left:
 *
 *    0.6931 ┤⠑⠢⢄
 *           │   ⠈⠑⠒⠤⢄⣀
 *    0.1432 ┤        ⠈⠉⠉⠒⠒⠤⠤⣀⣀⣀   ── loss 0.1432  ── val_loss 0.1610
 */
export interface ChartSeries { name: string; values: readonly number[]; color: number }

const DOTS = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]; // braille bit of (row, column) in a cell

/** The chart as lines of text (with ANSI colours when `color`). */
export function brailleChart(series: readonly ChartSeries[], width = 40, height = 4, color = true): string[] {
  const vals = series.flatMap((s) => s.values).filter(Number.isFinite);
  if (!vals.length) return [];
  let lo = Math.min(...vals), hi = Math.max(...vals);
  if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
  const n = Math.max(...series.map((s) => s.values.length));
  const W = width * 2, H = height * 4;
  const bits = Array.from({ length: height }, () => new Array<number>(width).fill(0));
  const owner = Array.from({ length: height }, () => new Array<number>(width).fill(-1));
  const dot = (x: number, y: number, k: number) => {
    const cy = Math.floor(y / 4), cx = Math.floor(x / 2);
    bits[cy]![cx]! |= DOTS[y % 4]![x % 2]!;
    owner[cy]![cx] = k;
  };
  const xOf = (i: number) => (n === 1 ? 0 : Math.round((i / (n - 1)) * (W - 1)));
  const yOf = (v: number) => Math.round((1 - (v - lo) / (hi - lo)) * (H - 1));
  series.forEach((s, k) => {
    let prev: [number, number] | null = null;
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) { prev = null; return; }
      const p: [number, number] = [xOf(i), yOf(v)];
      if (prev) {
        const steps = Math.max(Math.abs(p[0] - prev[0]), Math.abs(p[1] - prev[1]), 1);
        for (let t = 0; t <= steps; t++) dot(Math.round(prev[0] + ((p[0] - prev[0]) * t) / steps),
          Math.round(prev[1] + ((p[1] - prev[1]) * t) / steps), k);
      } else dot(p[0], p[1], k);
      prev = p;
    });
  });
  const fmt = (v: number) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(4));
  const labels = [fmt(hi), fmt(lo)], lw = Math.max(...labels.map((l) => l.length));
  const paint = (s: string, k: number) => (color && k >= 0 ? `\x1b[${series[k]!.color}m${s}\x1b[0m` : s);
  const legend = series.map((s, k) => paint(`── ${s.name} ${fmt(s.values[s.values.length - 1] ?? NaN)}`, k)).join('  ');
  return bits.map((row, r) => {
    const label = r === 0 ? labels[0]! : r === height - 1 ? labels[1]! : '';
    const axis = r === 0 || r === height - 1 ? '┤' : '│';
    const cells = row.map((b, c) => paint(String.fromCharCode(0x2800 + b), b ? owner[r]![c]! : -1)).join('');
    return `${label.padStart(lw)} ${axis}${cells}${r === height - 1 ? `  ${legend}` : ''}`;
  });
}

/**
 * The live chart under fit's progress bar: the loss curves so far. Before an epoch it is drawn
 * below the (empty) bar line and the cursor goes back up to the bar, which then redraws in place;
 * after the epoch it is redrawn with the new point and the cursor left below it.
 */
export class LiveLossChart {
  private readonly history: Record<string, number[]> = {};
  private lines: string[] = [];
  private below = false;
  constructor(private readonly width = 40, private readonly height = 4) {}

  private render(): string { return this.lines.map((l) => `${l}\x1b[K\n`).join(''); }
  /** Written at an epoch's start, `header` being its first line: erases the chart under the cursor, and redraws it below the bar line. */
  epochBegin(header: string): string {
    const up = this.below && this.lines.length ? `\x1b[${this.lines.length}A\r\x1b[J` : '';
    this.below = false;
    return `${up}${header}\n${this.lines.length ? `\n${this.render()}\x1b[${this.lines.length + 1}A` : ''}`;
  }
  /** Written after the epoch's final bar line (and its newline): the chart with the new point. */
  epochEnd(logs: Record<string, number>): string {
    for (const k of ['loss', 'val_loss']) if (logs[k] !== undefined) (this.history[k] ??= []).push(logs[k]!);
    const series = (['loss', 'val_loss'] as const).filter((k) => this.history[k])
      .map((k, i) => ({ name: k, values: this.history[k]!, color: i ? 33 : 36 }));
    this.lines = brailleChart(series, this.width, this.height);
    this.below = true;
    return `\x1b[J${this.render()}`;
  }
}
