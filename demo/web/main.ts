/**
 * The browser demo (npm run demo:web): train the seed's Keras model or the digits MLP/CNN on
 * WebGPU with live loss and accuracy curves, draw digits for the trained model to classify, and
 * see the kernels one train step compiles to — what each fuses, its WGSL, its GPU time.
 * `window.tesseraDemo` drives the same actions for the browser test.
 */
import { explain, getDevice, profile, tensor } from '../../index.ts';
import { trainStepTarget } from '../../ops/inspect/model-step.ts';
import { lineChartSVG } from '../../ops/inspect/line-chart.ts';
import { historyPanels } from '../../ops/nn/history.ts';
import { DrawPad } from './draw-pad.ts';
import { renderKernels } from './kernel-panel.ts';
import { loadDigits, prepare, type DemoModel, type Prepared } from './models.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (s: string) => { $('status').textContent = s; };

let current: { which: DemoModel; prep: Prepared } | null = null;
let busy = false;

function plot(history: Record<string, number[]>): void {
  $('plot').innerHTML = lineChartSVG(historyPanels(history), 'training curves', 300, 200);
}

async function showKernels(prep: Prepared): Promise<void> {
  status('compiling the train step for the kernel panel…');
  const { target, args } = trainStepTarget(prep.model, ...prep.batch);
  const ex = await explain(target, ...args);
  renderKernels($('kernels'), ex, null);
  status('timing each kernel…');
  const prof = await profile(target, ...args);
  renderKernels($('kernels'), ex, prof);
}

async function train(which: DemoModel, epochs: number): Promise<{ loss: number[]; accuracy: number[]; kernels: number }> {
  if (busy) throw new Error('training is already running');
  busy = true;
  document.body.classList.add('busy');
  try {
    status(which === 'seed' ? 'building the model…' : 'loading the digits…');
    const prep = await prepare(which);
    current = null;
    const history: Record<string, number[]> = {};
    plot(history);
    const t0 = performance.now();
    await prep.model.fit(prep.x, prep.y, {
      epochs, batchSize: prep.batchSize, verbose: 0, validationData: prep.val,
      callbacks: { onEpochEnd: (epoch, logs) => {
        for (const [k, v] of Object.entries(logs)) (history[k] ??= []).push(v);
        plot(history);
        const acc = logs.val_accuracy !== undefined ? `, held-out accuracy ${(100 * logs.val_accuracy).toFixed(1)}%` : '';
        status(`epoch ${epoch + 1}/${epochs}: loss ${logs.loss!.toFixed(4)}${acc}`
          + ` (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      } },
    });
    current = { which, prep };
    const done = $('status').textContent;
    $('pad-box').classList.toggle('disabled', !prep.digits);
    if (!prep.digits) {
      const p = await (await prep.model.predict(tensor([[1, 2, 3]], { dtype: 'float32' }))).data();
      $('guess').textContent = `P(y = 1 | x = [1, 2, 3]) = ${p[0]!.toFixed(4)}`;
    } else $('guess').textContent = 'draw a digit';
    await showKernels(prep);
    status(`${done} — trained; ${$('kernels').querySelectorAll('tr.kernel').length} kernels per train step`);
    return { loss: history.loss ?? [], accuracy: history.accuracy ?? [], kernels: $('kernels').querySelectorAll('tr.kernel').length };
  } finally {
    busy = false;
    document.body.classList.remove('busy');
  }
}

let pad: DrawPad;
async function classify(pixels: Float32Array): Promise<number[]> {
  if (!current?.prep.digits) return [];
  const probs = Array.from(await (await current.prep.model.predict(tensor(pixels, { shape: [1, 64] }))).data());
  const best = probs.indexOf(Math.max(...probs));
  $('guess').textContent = `it is a ${best} (${(100 * probs[best]!).toFixed(0)}%)`;
  $('bars').replaceChildren(...probs.map((p, d) => {
    const row = document.createElement('div');
    row.className = `bar${d === best ? ' best' : ''}`;
    row.innerHTML = `<span>${d}</span><i style="width:${(100 * p).toFixed(1)}%"></i>`;
    return row;
  }));
  return probs;
}

/** Puts test digit `i` on the pad and classifies it (for the browser test). */
async function classifySample(i: number): Promise<{ label: number; guess: number }> {
  const { test } = await loadDigits();
  const px = test.x.slice(i * 64, (i + 1) * 64);
  pad.show(px);
  const probs = await classify(px);
  return { label: test.y[i]!, guess: probs.indexOf(Math.max(...probs)) };
}

async function start(): Promise<void> {
  const adapter = await navigator.gpu?.requestAdapter().catch(() => null);
  if (!adapter) {
    $('nogpu').hidden = false;
    $('app').hidden = true;
    $('adapter').textContent = 'no WebGPU adapter';
    (window as unknown as { tesseraDemo: unknown }).tesseraDemo = { ready: true, webgpu: false };
    return;
  }
  const dev = await getDevice();
  const i = dev.adapterInfo;
  $('adapter').textContent = `WebGPU adapter: ${[i.vendor, i.architecture, i.description].filter(Boolean).join(' ') || 'unnamed'}` +
    ` · ${dev.caps.maxBuffers} storage buffers per kernel · timestamp queries ${dev.caps.timestamps ? 'yes' : 'no'}`;
  pad = new DrawPad($('pad'), () => { if (!pad.empty) void classify(pad.pixels()); });
  $('clear').addEventListener('click', () => { pad.clear(); $('bars').replaceChildren(); $('guess').textContent = 'draw a digit'; });
  $('train').addEventListener('click', () => {
    const which = ($('model') as HTMLSelectElement).value as DemoModel;
    const epochs = Math.max(1, Number(($('epochs') as HTMLInputElement).value) || 10);
    train(which, epochs).catch((e) => status(`error: ${e instanceof Error ? e.message : e}`));
  });
  (window as unknown as { tesseraDemo: unknown }).tesseraDemo = { ready: true, webgpu: true, train, classifySample };
  status('ready: pick a model and train it');
}

start().catch((e) => status(`error: ${e instanceof Error ? e.message : e}`));
