/**
 * A small XML well-formedness checker for the SVG reports (not a test file): every tag closes in
 * order, attributes are quoted and unique, text and attribute values contain no raw `<` or bare
 * `&`, there is exactly one root element, and no attribute holds NaN, undefined or Infinity. Returns the element names seen, in order.
 */
const NAME = '[A-Za-z_][\\w.:-]*';
const TAG = new RegExp(`^<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*"[^"<]*")*)\\s*(/?)>`);
const ATTR = new RegExp(`(${NAME})\\s*=\\s*"([^"<]*)"`, 'g');
const ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;

export function checkXml(xml: string): string[] {
  const stack: string[] = [], seen: string[] = [];
  let i = 0, roots = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const textPart = xml.slice(i, lt < 0 ? xml.length : lt);
    if (ENTITY.test(textPart)) throw new Error(`bare & in text near ${JSON.stringify(textPart.slice(0, 40))}`);
    if (textPart.trim() && !stack.length) throw new Error(`text outside the root element: ${JSON.stringify(textPart.slice(0, 40))}`);
    if (lt < 0) break;
    const m = TAG.exec(xml.slice(lt));
    if (!m) throw new Error(`malformed tag at ${lt}: ${JSON.stringify(xml.slice(lt, lt + 60))}`);
    const [all, close, name, attrs, selfClose] = m;
    const names = new Set<string>();
    for (const a of attrs!.matchAll(ATTR)) {
      if (names.has(a[1]!)) throw new Error(`attribute ${a[1]} repeated on <${name}>`);
      names.add(a[1]!);
      if (ENTITY.test(a[2]!)) throw new Error(`bare & in attribute ${a[1]} of <${name}>`);
    }
    if (close) {
      if (attrs || selfClose) throw new Error(`closing tag </${name}> with attributes`);
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      if (!stack.length) roots++;
      seen.push(name!);
      if (!selfClose) stack.push(name!);
    }
    i = lt + all.length;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('> <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  const bad = /="[^"]*\b(NaN|undefined|Infinity)\b[^"]*"/.exec(xml);
  if (bad) throw new Error(`an attribute holds ${bad[1]}: ${bad[0].slice(0, 60)}`);
  return seen;
}
