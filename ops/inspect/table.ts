/** Plain-text tables for reports: columns padded to their widest cell, numbers right-aligned. */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[], right: readonly number[] = []): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const pad = (c: string, i: number) => (right.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!));
  const line = (cells: readonly string[]) => cells.map(pad).join('  ').trimEnd();
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** `f32[4,8]`: a buffer's dtype and shape, briefly. */
const SHORT: Record<string, string> = { float32: 'f32', float16: 'f16', int32: 'i32', uint32: 'u32', bool: 'bool' };
export const fmtType = (dtype: string, shape: readonly number[]) => `${SHORT[dtype] ?? dtype}[${shape.join(',')}]`;
