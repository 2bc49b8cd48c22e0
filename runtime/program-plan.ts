/**
 * A Program as a plan (runtime/plan-cache.ts) and back: the steps' code, slots and liveness, with
 * each distinct WGSL text stored once (a model's repeated blocks share most of their kernels).
 */
import type { Plan } from './plan-cache.ts';
import type { PipelineCache } from './pipelines.ts';
import { Program, type Step } from './program.ts';

/** The plan of `program`; `pending(step)` marks steps whose background tuning has not settled. */
export function planOf(program: Program, pending: (st: Step) => boolean = () => false): Plan {
  const index = new Map<string, number>();
  const wgsl: string[] = [];
  const steps = program.steps.map((st) => {
    let w = index.get(st.code.wgsl);
    if (w === undefined) { index.set(st.code.wgsl, (w = wgsl.length)); wgsl.push(st.code.wgsl); }
    return {
      w, name: st.code.name, grid: [...st.code.grid] as [number, number, number], threads: st.code.threads, slots: [...st.slots], release: [...st.release],
      ...(st.params ? { params: { offset: st.params.offset, pos: [...st.params.pos] } } : {}),
      ...(pending(st) ? { pending: true } : {}),
    };
  });
  return { wgsl, steps, slotBytes: [...program.slotBytes], inputSlots: program.inputSlots, outputs: program.outputs.map((o) => o.slot),
    paramBytes: program.paramBytes, paramCount: program.params.length };
}

/** The program a (validated) plan describes, its pipelines created (or found) by WGSL; `params`: the graph's parameter values. */
export async function programFromPlan(plan: Plan, params: Float32Array, pipelines: PipelineCache): Promise<Program> {
  const pipes = await Promise.all(plan.steps.map((st) => pipelines.get(plan.wgsl[st.w]!, st.name)));
  const steps: Step[] = plan.steps.map((st, i) => ({
    code: { name: st.name, wgsl: plan.wgsl[st.w]!, grid: st.grid, threads: st.threads }, pipeline: pipes[i]!, slots: st.slots, release: st.release,
    params: st.params,
  }));
  return new Program(steps, plan.slotBytes, plan.inputSlots, plan.outputs.map((slot) => ({ slot })), params, plan.paramBytes);
}
