/** ONNX ops on small hand-built graphs, each compared with onnxruntime-web (wasm). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadOnnx } from '../interop/onnx/index.ts';
import { tensor } from '../index.ts';
import { kernelSummary, scheduleOf } from './helpers.ts';
import { checkOnnx, feed, GraphBuilder, T, type TensorSpec } from './onnx-helpers.ts';

const f32 = (dims: number[], values: number[]) => ({ tensor: { type: T.FLOAT, dims, values } });
const i64 = (name: string, values: number[]): [string, TensorSpec] => [name, { type: T.INT64, dims: [values.length], values }];

test('elementwise arithmetic, activations, comparisons and Where', async () => {
  const g = new GraphBuilder(14).input('x', T.FLOAT, [2, 3, 4]).input('y', T.FLOAT, [3, 4]).input('k', T.INT64, [2, 3, 4]);
  const unary = ['Neg', 'Abs', 'Relu', 'Sigmoid', 'Tanh', 'Erf', 'Exp', 'HardSwish', 'Floor', 'Ceil', 'Sign', 'Sin', 'Cos', 'Softplus'];
  for (const op of unary) g.node(op, ['x'], [op]).output(op);
  for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min']) g.node(op, ['x', 'y'], [op]).output(op);
  g.node('Abs', ['x'], ['ax']).node('Sqrt', ['ax'], ['Sqrt']).output('Sqrt')
    .init('one', { type: T.FLOAT, dims: [], values: [1] }).node('Add', ['ax', 'one'], ['ax1']).node('Log', ['ax1'], ['Log']).output('Log')
    .node('Pow', ['ax1', 'y'], ['Pow']).output('Pow').node('Reciprocal', ['ax1'], ['Reciprocal']).output('Reciprocal')
    .node('HardSigmoid', ['x'], ['HardSigmoid'], { alpha: { f: 0.3 }, beta: { f: 0.4 } }).output('HardSigmoid')
    .node('LeakyRelu', ['x'], ['LeakyRelu'], { alpha: { f: 0.2 } }).output('LeakyRelu')
    .node('Elu', ['x'], ['Elu'], { alpha: { f: 0.7 } }).output('Elu')
    .init('lo', { type: T.FLOAT, dims: [], values: [-0.25] }).init('hi', { type: T.FLOAT, dims: [], values: [0.5] })
    .node('Clip', ['x', 'lo', 'hi'], ['Clip']).output('Clip')
    .node('Greater', ['x', 'y'], ['gt']).node('Where', ['gt', 'x', 'y'], ['Where']).output('Where')
    .node('Less', ['x', 'y'], ['lt']).node('Not', ['lt'], ['Not']).output('Not', T.BOOL)
    .node('Cast', ['k'], ['kf'], { to: T.FLOAT }).node('Equal', ['k', 'k'], ['eq']).output('eq', T.BOOL)
    .init('two', { type: T.INT64, dims: [], values: [2] }).node('Div', ['k', 'two'], ['kdiv']).output('kdiv', T.INT64)
    .node('Mul', ['kf', 'x'], ['kx']).output('kx')
    .init('slope', { type: T.FLOAT, dims: [4], values: [0.1, 0.2, 0.3, 0.4] }).node('PRelu', ['x', 'slope'], ['PRelu']).output('PRelu');
  await checkOnnx(g.encode(), { x: feed([2, 3, 4], 1), y: feed([3, 4], 2), k: feed([2, 3, 4], 3, 'int64', -5, 5) });
});

test('single-value constants (an exponent, an epsilon, a divisor) are inlined in the kernel, not bound as buffers', async () => {
  const scalar = (v: number): TensorSpec => ({ type: T.FLOAT, dims: [], values: [v] });
  const g = new GraphBuilder(13).input('x', T.FLOAT, [3, 5]).init('two', scalar(2)).init('eps', scalar(1e-3)).init('six', scalar(6))
    .node('Pow', ['x', 'two'], ['p']).node('Add', ['p', 'eps'], ['a']).node('Sqrt', ['a'], ['r']).node('Div', ['r', 'six'], ['y']).output('y');
  await checkOnnx(g.encode(), { x: feed([3, 5], 7) });
  const m = await loadOnnx(g.encode());
  // One kernel reading x only (pow(x, 2) is x * x once the exponent is known).
  assert.equal(kernelSummary(scheduleOf(m.run({ x: tensor(new Float32Array(15), { shape: [3, 5] }) }).y!)), ['ew_mul_add_sqrt_div r1 w1']);
});

test('Clip with attributes (opset 9), Sum, Mean, Identity, Dropout, Constant', async () => {
  const g = new GraphBuilder(9).input('x', T.FLOAT, [3, 5]).input('y', T.FLOAT, [5])
    .node('Clip', ['x'], ['c'], { min: { f: -0.5 }, max: { f: 0.25 } }).output('c')
    .node('Sum', ['x', 'y', 'c'], ['s']).output('s').node('Mean', ['x', 'y', 'c'], ['m']).output('m')
    .node('Identity', ['x'], ['id']).node('Dropout', ['id'], ['d'], { ratio: { f: 0.5 } }).output('d')
    .node('Constant', [], ['k'], { value: f32([5], [1, 2, 3, 4, 5]) }).node('Mul', ['d', 'k'], ['dk']).output('dk');
  await checkOnnx(g.encode(), { x: feed([3, 5], 4), y: feed([5], 5) });
});

test('Softmax and LogSoftmax: one axis (opset 13) and flattened to 2-D (opset 11)', async () => {
  for (const opset of [11, 13]) {
    const g = new GraphBuilder(opset).input('x', T.FLOAT, [2, 3, 4])
      .node('Softmax', ['x'], ['s'], { axis: 1 }).output('s').node('LogSoftmax', ['x'], ['l'], { axis: 1 }).output('l')
      .node('Softmax', ['x'], ['d']).output('d');
    await checkOnnx(g.encode(), { x: feed([2, 3, 4], 6) }, { msg: `opset ${opset}` });
  }
});

test('MatMul (batched, broadcast) and Gemm (transA, transB, alpha, beta, broadcast C)', async () => {
  const g = new GraphBuilder(13).input('a', T.FLOAT, [2, 3, 4]).input('b', T.FLOAT, [4, 5]).input('p', T.FLOAT, [4, 3]).input('q', T.FLOAT, [5, 4])
    .init('c', { type: T.FLOAT, dims: [5], values: [1, 2, 3, 4, 5] })
    .node('MatMul', ['a', 'b'], ['mm']).output('mm')
    .node('Gemm', ['p', 'q', 'c'], ['gemm'], { transA: 1, transB: 1, alpha: { f: 0.5 }, beta: { f: 2 } }).output('gemm');
  await checkOnnx(g.encode(), { a: feed([2, 3, 4], 7), b: feed([4, 5], 8), p: feed([4, 3], 9), q: feed([5, 4], 10) });
});

test('Conv: groups, strides, pads, dilations, bias, depthwise, auto_pad, 1-D', async () => {
  const w = (dims: number[], s: number) => ({ type: T.FLOAT, dims, values: feed(dims, s).data as number[] });
  const g = new GraphBuilder(13).input('x', T.FLOAT, [1, 4, 7, 6]).input('x1', T.FLOAT, [2, 3, 9])
    .init('w', w([6, 2, 3, 3], 11)).init('b', w([6], 12)).init('dw', w([4, 1, 3, 3], 13)).init('w1', w([2, 3, 3], 14)).init('dm', w([8, 1, 3, 2], 41))
    .node('Conv', ['x', 'dm', 'b8'], ['mult2'], { group: 4, dilations: [2, 1], strides: [1, 2], pads: [2, 1, 1, 0] }).output('mult2').init('b8',
      w([8], 42))
    .node('Conv', ['x', 'w', 'b'], ['grouped'], { group: 2, strides: [2, 1], pads: [1, 0, 1, 2], dilations: [1, 2] }).output('grouped')
    .node('Conv', ['x', 'dw'], ['depthwise'], { group: 4, auto_pad: 'SAME_UPPER', strides: [2, 2] }).output('depthwise')
    .node('Conv', ['x', 'dw'], ['lower'], { group: 4, auto_pad: 'SAME_LOWER', strides: [2, 2] }).output('lower')
    .node('Conv', ['x1', 'w1'], ['conv1d'], { pads: [1, 1], strides: [2] }).output('conv1d');
  await checkOnnx(g.encode(), { x: feed([1, 4, 7, 6], 15), x1: feed([2, 3, 9], 16) });
});

test('ConvTranspose: strides, pads, output_padding, groups, dilation', async () => {
  const w = (dims: number[], s: number) => ({ type: T.FLOAT, dims, values: feed(dims, s).data as number[] });
  const g = new GraphBuilder(13).input('x', T.FLOAT, [1, 4, 3, 4])
    .init('w', w([4, 3, 3, 3], 17)).init('b', w([3], 18)).init('wg', w([4, 1, 2, 3], 19))
    .node('ConvTranspose', ['x', 'w', 'b'], ['ct'], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 0] }).output('ct')
    .node('ConvTranspose', ['x', 'wg'], ['ctg'], { group: 2, strides: [1, 2], dilations: [2, 1] }).output('ctg');
  await checkOnnx(g.encode(), { x: feed([1, 4, 3, 4], 20) });
});

test('BatchNormalization, InstanceNormalization, LayerNormalization', async () => {
  const v = (n: number, s: number, lo = 0) => ({ type: T.FLOAT, dims: [n], values: (feed([n], s).data as number[]).map((x) => x + lo) });
  const g = new GraphBuilder(17).input('x', T.FLOAT, [2, 3, 4, 5])
    .init('sc', v(3, 21)).init('bi', v(3, 22)).init('mu', v(3, 23)).init('var', v(3, 24, 1.5)).init('g5', v(5, 25)).init('b5', v(5, 26))
    .node('BatchNormalization', ['x', 'sc', 'bi', 'mu', 'var'], ['bn'], { epsilon: { f: 1e-3 } }).output('bn')
    .node('InstanceNormalization', ['x', 'sc', 'bi'], ['in']).output('in')
    .node('LayerNormalization', ['x', 'g5', 'b5'], ['ln'], { axis: -1 }).output('ln')
    .node('LayerNormalization', ['x', 'g5'], ['ln2'], { axis: 2, epsilon: { f: 1e-2 } }).output('ln2');
  await checkOnnx(g.encode(), { x: feed([2, 3, 4, 5], 27) });
});

test('MaxPool, AveragePool (pads, strides, ceil_mode, count_include_pad), GlobalAveragePool, GlobalMaxPool', async () => {
  const g = new GraphBuilder(13).input('x', T.FLOAT, [1, 2, 7, 6])
    .node('MaxPool', ['x'], ['mp'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }).output('mp')
    .node('MaxPool', ['x'], ['mpc'], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }).output('mpc')
    .node('AveragePool', ['x'], ['ap'], { kernel_shape: [3, 2], strides: [2, 1], pads: [1, 0, 1, 1] }).output('ap')
    .node('AveragePool', ['x'], ['api'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }).output('api')
    .node('AveragePool', ['x'], ['apc'], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }).output('apc')
    .node('GlobalAveragePool', ['x'], ['gap']).output('gap').node('GlobalMaxPool', ['x'], ['gmp']).output('gmp');
  await checkOnnx(g.encode(), { x: feed([1, 2, 7, 6], 28) });
});

test('Reduce ops: axes as attribute (opset 13 ReduceMean/Max/Min) and as input (ReduceSum), keepdims, ArgMax', async () => {
  const g = new GraphBuilder(13).input('x', T.FLOAT, [2, 3, 4]).init(...i64('ax', [0, 2]))
    .node('ReduceSum', ['x', 'ax'], ['sum'], { keepdims: 0 }).output('sum')
    .node('ReduceMean', ['x'], ['mean'], { axes: [-1] }).output('mean')
    .node('ReduceMax', ['x'], ['max'], { axes: [1], keepdims: 0 }).output('max')
    .node('ReduceMin', ['x'], ['min']).output('min')
    .node('ReduceProd', ['x'], ['prod'], { axes: [1] }).output('prod')
    .node('ReduceL2', ['x'], ['l2'], { axes: [2] }).output('l2')
    .node('ReduceSumSquare', ['x'], ['ss'], { axes: [0] }).output('ss')
    .node('ArgMax', ['x'], ['am'], { axis: 1, keepdims: 0 }).output('am', T.INT64)
    .node('ArgMin', ['x'], ['an'], { axis: 2 }).output('an', T.INT64);
  await checkOnnx(g.encode(), { x: feed([2, 3, 4], 29) });
});

test('shape arithmetic on the host: Shape, Gather, Unsqueeze, Concat, Cast, Reshape 0/-1, ConstantOfShape, Range, Size', async () => {
  const g = new GraphBuilder(13).input('x', T.FLOAT, ['n', 3, 4])
    .init(...i64('zero', [0])).init(...i64('minus1', [-1])).init(...i64('two', [2]))
    .node('Shape', ['x'], ['s']).node('Gather', ['s', 'zero'], ['n'], { axis: 0 })
    .node('Concat', ['n', 'minus1'], ['target'], { axis: 0 }).node('Reshape', ['x', 'target'], ['flat']).output('flat')
    .init(...i64('zkeep', [0, 0, 2, 2])).node('Reshape', ['x', 'zkeep'], ['r0']).output('r0')
    .node('Cast', ['s'], ['sf'], { to: T.FLOAT }).init(...i64('four', [4])).node('ConstantOfShape', ['four'], ['cos'], { value: f32([1], [0.5]) })
    .node('Mul', ['sf', 'sf'], ['sf2']).output('sf2')
    .init('r_start', { type: T.INT64, dims: [], values: [1] }).init('r_limit', { type: T.INT64, dims: [], values: [9] }).init('r_delta',
      { type: T.INT64, dims: [], values: [3] })
    .node('Range', ['r_start', 'r_limit', 'r_delta'], ['rng']).output('rng', T.INT64)
    .node('Size', ['x'], ['size']).output('size', T.INT64)
    .node('Shape', ['x'], ['s2']).node('Slice', ['s2', 'two', 'two'], ['emptyish']).node('Concat', ['s2', 'emptyish'], ['s3'], { axis: 0 })
    .node('ConstantOfShape', ['s3'], ['ones'], { value: f32([1], [1]) }).node('Add', ['x', 'ones'], ['x1']).node('Mul', ['x1', 'cos'],
      ['x2']).output('x2');
  await checkOnnx(g.encode(), { x: feed([2, 3, 4], 30) });
});

test('views: Flatten, Transpose, Squeeze/Unsqueeze (attribute and input forms), Expand', async () => {
  for (const opset of [11, 13]) {
    const g = new GraphBuilder(opset).input('x', T.FLOAT, [2, 1, 3, 4]);
    g.node('Flatten', ['x'], ['fl'], { axis: 2 }).output('fl').node('Transpose', ['x'], ['tr'], { perm: [3, 1, 0, 2] }).output('tr')
      .node('Transpose', ['x'], ['trd']).output('trd');
    if (opset >= 13) g.init(...i64('ax1', [1])).init(...i64('ax0', [0, -1])).node('Squeeze', ['x', 'ax1'], ['sq']).node('Unsqueeze', ['sq', 'ax0'],
      ['us']);
    else g.node('Squeeze', ['x'], ['sq'], { axes: [1] }).node('Unsqueeze', ['sq'], ['us'], { axes: [0, -1] });
    g.output('us');
    if (opset >= 13) g.init(...i64('ax2', [2])).node('Unsqueeze', ['fl', 'ax2'], ['fl3']).output('fl3');
    else g.node('Unsqueeze', ['fl'], ['fl3'], { axes: [2] }).output('fl3');
    g.init(...i64('eshape', [2, 3, 1, 1])).node('Expand', ['x', 'eshape'], ['ex']).output('ex');
    await checkOnnx(g.encode(), { x: feed([2, 1, 3, 4], 31) }, { msg: `opset ${opset}` });
  }
});

test('Split, Slice (negative steps, axes), Concat, Gather, GatherElements, Tile, Pad (constant, reflect, edge)', async () => {
  const g = new GraphBuilder(13).input('x', T.FLOAT, [3, 4, 5]).input('idx', T.INT64, [2, 2])
    .init(...i64('sp', [1, 3])).node('Split', ['x', 'sp'], ['s0', 's1'], { axis: 1 }).output('s0').output('s1')
    .node('Split', ['x'], ['t0', 't1', 't2'], { axis: 0 }).output('t2')
    .init(...i64('st', [-1, 1])).init(...i64('en', [-100, 5])).init(...i64('ax', [2, 1])).init(...i64('step', [-2, 2]))
    .node('Slice', ['x', 'st', 'en', 'ax', 'step'], ['sl']).output('sl')
    .init(...i64('st2', [1])).init(...i64('en2', [1000])).node('Slice', ['x', 'st2', 'en2'], ['sl2']).output('sl2')
    .node('Concat', ['s1', 's0', 's1'], ['cat'], { axis: 1 }).output('cat')
    .node('Gather', ['x', 'idx'], ['ga'], { axis: 1 }).output('ga')
    .node('Gather', ['x', 'idx'], ['ga0'], { axis: 0 }).output('ga0')
    .init('ge_i', { type: T.INT64, dims: [3, 2, 5], values: feed([3, 2, 5], 32, 'int64', -4, 3).data as number[] })
    .node('GatherElements', ['x', 'ge_i'], ['ge'], { axis: 1 }).output('ge')
    .init(...i64('reps', [2, 1, 3])).node('Tile', ['x', 'reps'], ['tile']).output('tile')
    .init(...i64('pads', [0, 1, 2, 1, 0, 1])).init('pv', { type: T.FLOAT, dims: [], values: [0.5] })
    .node('Pad', ['x', 'pads', 'pv'], ['pc']).output('pc')
    .node('Pad', ['x', 'pads'], ['pr'], { mode: 'reflect' }).output('pr')
    .node('Pad', ['x', 'pads'], ['pe'], { mode: 'edge' }).output('pe')
    .init(...i64('npads', [0, -1, 1, 0, 1, -2])).node('Pad', ['x', 'npads'], ['pn']).output('pn');
  await checkOnnx(g.encode(), { x: feed([3, 4, 5], 33), idx: { type: 'int64', dims: [2, 2], data: [0, -1, 2, 1] } });
});

test('Slice and Pad in their attribute forms (opset 9)', async () => {
  const g = new GraphBuilder(9).input('x', T.FLOAT, [3, 4, 5])
    .node('Slice', ['x'], ['sl'], { starts: [1, 0], ends: [3, -1], axes: [0, 2] }).output('sl')
    .node('Pad', ['x'], ['pd'], { pads: [1, 0, 0, 0, 2, 1], value: { f: -1 } }).output('pd');
  await checkOnnx(g.encode(), { x: feed([3, 4, 5], 34) });
});

test('Resize: nearest (asymmetric/floor, half_pixel/round_prefer_floor) and linear (half_pixel, align_corners), sizes and scales', async () => {
  const g = new GraphBuilder(13).input('x', T.FLOAT, [1, 2, 3, 4])
    .init('scales', { type: T.FLOAT, dims: [4], values: [1, 1, 2, 1.5] }).init(...i64('sizes', [1, 2, 5, 3]))
    .node('Resize', ['x', '', 'scales'], ['nn'], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor' }).output('nn')
    .node('Resize', ['x', '', 'scales'], ['nh'], { mode: 'nearest' }).output('nh')
    .node('Resize', ['x', '', 'scales'], ['lin'], { mode: 'linear' }).output('lin')
    .node('Resize', ['x', '', '', 'sizes'], ['lac'], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }).output('lac')
    .node('Resize', ['x', '', '', 'sizes'], ['nsz'], { mode: 'nearest', coordinate_transformation_mode: 'pytorch_half_pixel',
      nearest_mode: 'ceil' }).output('nsz');
  await checkOnnx(g.encode(), { x: feed([1, 2, 3, 4], 35) });
});

test('Mod, And, Or, LessOrEqual, GreaterOrEqual, ReduceL1, ReduceLogSumExp, ArgMax select_last_index, Upsample (opset 9)', async () => {
  const g = new GraphBuilder(13).input('x', T.FLOAT, [2, 3, 4]).input('y', T.FLOAT, [3, 4]).input('k', T.INT64, [2, 3, 4]).input('j', T.INT64, [4])
    .node('Mod', ['k', 'j'], ['imod']).output('imod', T.INT64).node('Mod', ['x', 'y'], ['fmod'], { fmod: 1 }).output('fmod')
    .node('LessOrEqual', ['x', 'y'], ['le']).node('GreaterOrEqual', ['x', 'y'], ['ge']).output('le', T.BOOL)
    .node('And', ['le', 'ge'], ['and']).output('and', T.BOOL).node('Or', ['le', 'ge'], ['or']).output('or', T.BOOL)
    .node('ReduceL1', ['x'], ['l1'], { axes: [1] }).output('l1').node('ReduceLogSumExp', ['x'], ['lse'], { axes: [2], keepdims: 0 }).output('lse')
    .node('Cast', ['k'], ['kf'], { to: T.FLOAT }).node('ArgMax', ['kf'], ['last'], { axis: 2, select_last_index: 1 }).output('last', T.INT64);
  await checkOnnx(g.encode(), { x: feed([2, 3, 4], 36), y: feed([3, 4], 37), k: feed([2, 3, 4], 38, 'int64', -9, 9), j: { type: 'int64', dims: [4],
    data: [3, -4, 5, 2] } });
  const u = new GraphBuilder(9).input('x', T.FLOAT, [1, 2, 3, 4]).init('sc', { type: T.FLOAT, dims: [4], values: [1, 1, 2, 3] })
    .node('Upsample', ['x', 'sc'], ['un'], { mode: 'nearest' }).output('un').node('Upsample', ['x', 'sc'], ['ul'], { mode: 'linear' }).output('ul');
  await checkOnnx(u.encode(), { x: feed([1, 2, 3, 4], 39) }, { msg: 'Upsample' });
});

test('Gelu (opset 20): exact and tanh approximation', async () => {
  const g = new GraphBuilder(20).input('x', T.FLOAT, [3, 7]).node('Gelu', ['x'], ['g']).output('g')
    .node('Gelu', ['x'], ['gt'], { approximate: 'tanh' }).output('gt');
  await checkOnnx(g.encode(), { x: feed([3, 7], 40) });
});

test.run();
