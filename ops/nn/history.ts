/**
 * What fit returns, plus pictures of it: `history.toSVG()` draws loss and each metric per epoch
 * (training and validation curves in one panel each) as a self-contained SVG.
 */
import { lineChartSVG, type Panel } from '../inspect/line-chart.ts';

export interface HistoryData {
  history: Record<string, number[]>;
  epoch: number[];
  params: { epochs: number; steps: number; batchSize: number; samples: number };
}
export interface HistoryPlots {
  /** Loss and metrics per epoch as an SVG document (one panel per quantity, validation beside training). */
  toSVG(opts?: { width?: number; height?: number; title?: string }): string;
}

/** One panel per quantity: `loss`, then each metric, each with its `val_` series. */
export function historyPanels(h: Record<string, readonly number[]>): Panel[] {
  const base = Object.keys(h).filter((k) => !k.startsWith('val_'));
  for (const k of Object.keys(h)) if (k.startsWith('val_') && !base.includes(k.slice(4))) base.push(k.slice(4));
  base.sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : a.localeCompare(b)));
  return base.map((k) => ({ title: k, series: [k, `val_${k}`].filter((s) => h[s]).map((s) => ({ name: s, values: h[s]! })) }));
}

export function withPlots<H extends HistoryData>(h: H): H & HistoryPlots {
  // Not enumerable: the history stays plain data for JSON and deep comparisons.
  Object.defineProperty(h, 'toSVG', {
    value: (opts: { width?: number; height?: number; title?: string } = {}) => lineChartSVG(historyPanels(h.history),
      opts.title ?? 'training history', opts.width, opts.height),
  });
  return h as H & HistoryPlots;
}
