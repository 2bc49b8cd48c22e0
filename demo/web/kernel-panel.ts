/**
 * The kernel panel: what Tessera compiled one train step of the model into — one row per kernel
 * with its name, kind, the primitives it fuses and its GPU time; a click shows the kernel's WGSL.
 * Below: the fused graph (explain's SVG) and the roofline (profile's SVG).
 */
import type { ExplainReport } from '../../ops/inspect/explain.ts';
import type { ProfileReport } from '../../ops/inspect/profile.ts';

const h = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
};

export function renderKernels(root: HTMLElement, ex: ExplainReport, prof: ProfileReport | null): void {
  root.replaceChildren();
  const ms = new Map(prof?.kernels.map((k) => [k.index, k.ms]) ?? []);
  root.append(h('p', { class: 'summary' }, ex.summary()));
  if (prof) root.append(h('p', { class: 'summary' }, `GPU time per kernel by ${prof.method}; whole step ${prof.totalMs.toFixed(2)} ms (wall); ` +
    `ceilings measured now: copy ${prof.ceilings.copyGBs.toFixed(1)} GB/s, fma ${prof.ceilings.fmaGFLOPs.toFixed(1)} GFLOP/s`));
  const table = h('table', { class: 'kernels' }, h('thead', {}, h('tr', {}, ...['#', 'kernel', 'kind', 'fuses', 'ms'].map((c) => h('th', {}, c)))));
  const body = h('tbody');
  const wgsl = h('pre', { class: 'wgsl', hidden: '' });
  for (const k of ex.kernels) {
    const chips = h('td', { class: 'chips' }, ...k.primitives.map((p) => h('span', { class: `chip op-${p}` }, p)));
    const t = ms.get(k.index);
    const row = h('tr', { class: `kernel ${k.kind}`, title: 'show the WGSL' },
      h('td', {}, `k${k.index}`), h('td', { class: 'name' }, k.name), h('td', {}, h('span', { class: `kind ${k.kind}` }, k.kind)), chips,
      h('td', { class: 'ms' }, t === undefined ? '–' : t.toFixed(3)));
    row.addEventListener('click', () => {
      const open = row.classList.toggle('open');
      body.querySelectorAll('tr.open').forEach((r) => { if (r !== row) r.classList.remove('open'); });
      wgsl.hidden = !open;
      wgsl.textContent = open ? `// k${k.index} ${k.name}: reads ${k.reads.map((b) => b.label).join(', ')}\n${k.wgsl}` : '';
    });
    body.append(row);
  }
  table.append(body);
  root.append(table, wgsl);
  const pics = h('div', { class: 'pictures' });
  const fig = (title: string, svg: string) => {
    const f = h('div', { class: 'svg' });
    f.innerHTML = svg;
    return h('details', {}, h('summary', {}, title), f);
  };
  pics.append(fig('the fused graph', ex.toSVG()));
  if (prof) pics.append(fig('roofline', prof.toSVG()));
  root.append(pics);
}
