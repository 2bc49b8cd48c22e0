/** Plots: the terminal loss chart under fit's progress bar, and history.toSVG(). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nn } from '../index.ts';
import { brailleChart } from '../ops/nn/plot.ts';
import { Progress } from '../ops/nn/progress.ts';
import { checkXml } from './xml-helpers.ts';
import { screen } from './vt-helpers.ts';

const BRAILLE = /[\u2801-\u28ff]/;

test('the braille chart puts a falling curve from the top left to the bottom right', () => {
  const lines = brailleChart([{ name: 'loss', values: [4, 3, 2, 1], color: 36 }], 10, 3, false);
  assert.is(lines.length, 3);
  const cells = lines.map((l) => [...l.slice(l.indexOf(l.includes('┤') ? '┤' : '│') + 1)].slice(0, 10));
  assert.ok(cells[0]![0] !== '\u2800', 'first point in the top row');
  assert.ok(cells[2]![9] !== '\u2800', 'last point in the bottom row');
  assert.is(cells[2]![0], '\u2800');
  assert.is(cells[0]![9], '\u2800');
  assert.ok(lines[0]!.startsWith('4.0000'));
  assert.ok(lines[2]!.startsWith('1.0000') && lines[2]!.includes('── loss 1.0000'));
  assert.equal(brailleChart([{ name: 'loss', values: [NaN], color: 36 }]), []);
});

test('on a terminal the chart sits under the progress bar during and after each epoch', () => {
  let out = '';
  const p = new Progress(1, 3, 2, { write: (s) => { out += s; }, isTTY: true, columns: 100 });
  const logs = [{ loss: 0.9, val_loss: 1 }, { loss: 0.5, val_loss: 0.7 }, { loss: 0.2, val_loss: 0.4 }];
  for (let e = 0; e < 3; e++) {
    p.epochBegin(e);
    p.batchEnd(0);
    p.batchEnd(1);
    if (e === 2) {
      const s = screen(out);
      const bar = s.findIndex((l) => l.startsWith('2/2') && !l.includes('loss:'));
      assert.ok(bar > 0 && s[bar - 1] === 'Epoch 3/3', s.join('\n'));
      assert.ok(BRAILLE.test(s[bar + 1]!) && s[bar + 1]!.startsWith('1.0000'), s.join('\n'));
      assert.is(s.filter((l) => l.includes('┤')).length, 2, 'one chart on screen');
    }
    p.epochEnd(e, logs[e]!);
  }
  const s = screen(out).filter(Boolean);
  assert.equal(s.filter((l) => l.startsWith('Epoch')), ['Epoch 1/3', 'Epoch 2/3', 'Epoch 3/3']);
  assert.is(s.filter((l) => l.includes('┤')).length, 2, 'one chart left on screen');
  assert.ok(s[s.length - 1]!.includes('── loss 0.2000') && s[s.length - 1]!.includes('── val_loss 0.4000'));
});

test('no chart when not a terminal, or with plot: false', () => {
  for (const [tty, plot] of [[false, true], [true, false]] as const) {
    let out = '';
    const p = new Progress(1, 2, 1, { write: (s) => { out += s; }, isTTY: tty, columns: 100 }, plot);
    for (let e = 0; e < 2; e++) { p.epochBegin(e); p.batchEnd(0); p.epochEnd(e, { loss: 1 / (e + 1) }); }
    assert.not.ok(BRAILLE.test(out), out);
  }
});

test('history.toSVG draws loss and metrics, training beside validation', async () => {
  const model = nn.sequential([nn.dense(4, { activation: 'relu', inputShape: [2] }), nn.dense(1, { activation: 'sigmoid' })]);
  model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  const x = [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.2], [0.1, 0.9], [0.9, 0.1], [0.3, 0.3]];
  const y = [[0], [1], [1], [0], [1], [1], [1], [0]];
  const h = await model.fit(x, y, { epochs: 3, batchSize: 4, validationSplit: 0.25, verbose: 0 });
  const svg = h.toSVG();
  checkXml(svg);
  const names = [...svg.matchAll(/class="series" data-name="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(names, ['loss', 'val_loss', 'accuracy', 'val_accuracy'], 'the loss panel first, each with its validation curve');
  assert.equal(Object.keys(h), ['history', 'epoch', 'params'], 'toSVG is not enumerable data');
});

test.run();
