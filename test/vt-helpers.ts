/** A minimal terminal emulator for tests (not a test file): applies text, \r, \n, ESC[nA (up), ESC[K and ESC[J; returns the screen's lines. */
export function screen(out: string): string[] {
  const rows: string[] = [''];
  let r = 0, c = 0;
  const put = (s: string) => {
    while (rows.length <= r) rows.push('');
    const chars = [...rows[r]!];
    while (chars.length < c) chars.push(' ');
    const add = [...s];
    chars.splice(c, add.length, ...add);
    rows[r] = chars.join('');
    c += add.length;
  };
  for (const t of out.replace(/\x1b\[\d*m/g, '').split(/(\x1b\[\d*[AKJ]|\r|\n)/)) {
    if (!t) continue;
    if (t === '\n') { r++; c = 0; while (rows.length <= r) rows.push(''); }
    else if (t === '\r') c = 0;
    else if (t.startsWith('\x1b[')) {
      const n = Number(t.slice(2, -1) || 1), cmd = t[t.length - 1];
      if (cmd === 'A') r = Math.max(0, r - n);
      else if (cmd === 'K') rows[r] = [...rows[r]!].slice(0, c).join('');
      else { rows[r] = [...rows[r]!].slice(0, c).join(''); rows.length = r + 1; }
    } else put(t);
  }
  return rows;
}
