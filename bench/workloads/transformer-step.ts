/**
 * The graph of a pre-LN transformer training step: `blocks` blocks (multi-head self-attention and
 * a GELU MLP), loss mean(y²), `valueAndGrad`, then an Adam or AdamW update of every parameter —
 * the graph a jitted training step compiles. Used by the scheduler tests (small sizes) and by
 * bench/schedule.ts (the sizes of the architecture review: B=4, T=64, D=128, 4 heads).
 */
import { add, gelu, layerNorm, matmul, mean, mul, permute, randn, reshape, softmax, tensor, valueAndGrad, type Tensor } from '../../index.ts';
import { Adam, AdamW, type OptState } from '../../ops/nn/optimizers.ts';
import { flatten } from '../../ops/pytree.ts';
import { whileTracing } from '../../ops/transforms.ts';

export interface StepConfig {
  blocks: number; B: number; T: number; D: number; H: number; optimizer?: 'adam' | 'adamw'; seed?: number;
  /** Adam's epsilon (default 1e-7); tests comparing updates with a reference use a larger one, so that
   * elements with a near-zero gradient (whose update is ±lr for any rounding) stay well-conditioned. */
  epsilon?: number;
}
type Block = Record<string, Tensor>;

const zeros = (n: number) => tensor(new Float32Array(n), { shape: [n] });

function blockParams(D: number, seed: number): Block {
  const w = (i: number, r: number, c: number) => randn([r, c], { seed: seed + i, std: 1 / Math.sqrt(r) });
  const ones = () => tensor(new Float32Array(D).fill(1), { shape: [D] });
  return {
    g1: ones(), b1: zeros(D), wq: w(0, D, D), bq: zeros(D), wk: w(1, D, D), bk: zeros(D), wv: w(2, D, D), bv: zeros(D),
    wo: w(3, D, D), bo: zeros(D), g2: ones(), b2: zeros(D), w1: w(4, D, 4 * D), c1: zeros(4 * D), w2: w(5, 4 * D, D), c2: zeros(D),
  };
}

function block(p: Block, x: Tensor, { B, T, D, H }: StepConfig): Tensor {
  const Dh = D / H;
  const h = layerNorm(x, { gamma: p.g1!, beta: p.b1! });
  const heads = (w: Tensor, b: Tensor) => permute(reshape(add(matmul(h, w), b), [B, T, H, Dh]), [0, 2, 1, 3]);
  const scores = mul(matmul(heads(p.wq!, p.bq!), permute(heads(p.wk!, p.bk!), [0, 1, 3, 2])), 1 / Math.sqrt(Dh));
  const att = matmul(softmax(scores, -1), heads(p.wv!, p.bv!));
  const x2 = add(x, add(matmul(reshape(permute(att, [0, 2, 1, 3]), [B, T, D]), p.wo!), p.bo!));
  const m = add(matmul(gelu(add(matmul(layerNorm(x2, { gamma: p.g2!, beta: p.b2! }), p.w1!), p.c1!)), p.w2!), p.c2!);
  return add(x2, m);
}

/** Parameters, optimizer state and input: the arguments of a jitted step. */
export interface StepInputs { params: Block[]; x: Tensor; state: OptState }

const optimizerOf = (cfg: StepConfig) => {
  const o = { learningRate: 1e-3, epsilon: cfg.epsilon };
  return cfg.optimizer === 'adamw' ? new AdamW(o) : new Adam(o);
};

/** Seeded parameters (host data), fresh optimizer state and the input of the step. */
export function stepInputs(cfg: StepConfig): StepInputs {
  const seed = cfg.seed ?? 1;
  const params = Array.from({ length: cfg.blocks }, (_, i) => blockParams(cfg.D, seed + 100 * i));
  return { params, x: randn([cfg.B, cfg.T, cfg.D], { seed }), state: optimizerOf(cfg).init(params) };
}

/** The step's lazy results: loss, new parameters and optimizer state (all to be realized together). */
export function transformerStep(cfg: StepConfig, { params, x, state: s0 }: StepInputs = stepInputs(cfg)): Tensor[] {
  const loss = (ps: Block[], input: Tensor) => {
    let y = input;
    for (const p of ps) y = block(p, y, cfg);
    return mean(mul(y, y));
  };
  const [value, grads] = valueAndGrad(loss)(params, x);
  const opt = optimizerOf(cfg);
  // As inside jit: the update stays a lazy graph (called eagerly, an optimizer realizes it).
  const { params: next, state } = whileTracing(() => opt.update(params, grads, s0));
  return [value, ...flatten(next).leaves, ...flatten(state).leaves];
}
