/**
 * model.summary(): Keras's table of layers, output shapes and parameter counts, e.g.
 *
 *   Model: "sequential"
 *   ┏━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┓
 *   ┃ Layer (type)             ┃ Output Shape     ┃   Param # ┃
 *   ┡━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━┩
 *   │ dense (Dense)            │ (None, 10)       │        40 │
 *   └──────────────────────────┴──────────────────┴───────────┘
 *    Total params: 51 (204.00 B)
 */
/** One row; `connected` (functional models) lists the layers feeding it (Keras's "Connected to" column). */
export interface SummaryRow { name: string; type: string; outputShape: readonly number[] | null; params: number; connected?: string }

const fmtBytes = (b: number) => {
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return `${b.toFixed(2)} ${units[i]}`;
};
const fmtCount = (n: number) => n.toLocaleString('en-US');
export const fmtOutputShape = (s: readonly number[] | null) => (s ? `(None${s.map((d) => `, ${d}`).join('')})` : '?');

export function summaryTable(modelName: string, rows: readonly SummaryRow[], trainable: number, nonTrainable = 0): string {
  const graph = rows.some((r) => r.connected !== undefined);
  const cells = rows.map((r) => [`${r.name} (${r.type})`, fmtOutputShape(r.outputShape), r.outputShape ? fmtCount(r.params) : '0 (unbuilt)', ...(graph ? [r.connected ?? '-'] : [])]);
  const head = ['Layer (type)', 'Output Shape', 'Param #', ...(graph ? ['Connected to'] : [])];
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)) + 2);
  const line = (l: string, m: string, r: string, f: string) => l + w.map((n) => f.repeat(n)).join(m) + r;
  const row = (c: string[], edge: string) => edge + c.map((s, i) => (i === 2 ? ` ${s.padStart(w[i]! - 2)} ` : ` ${s.padEnd(w[i]! - 2)} `)).join(edge) + edge;
  const total = trainable + nonTrainable;
  return [
    `Model: "${modelName}"`,
    line('┏', '┳', '┓', '━'),
    row(head, '┃'),
    line('┡', '╇', '┩', '━'),
    ...cells.map((c) => row(c, '│')),
    line('└', '┴', '┘', '─'),
    ` Total params: ${fmtCount(total)} (${fmtBytes(total * 4)})`,
    ` Trainable params: ${fmtCount(trainable)} (${fmtBytes(trainable * 4)})`,
    ` Non-trainable params: ${fmtCount(nonTrainable)} (${fmtBytes(nonTrainable * 4)})`,
  ].join('\n');
}
