/**
 * Pipeline cache keyed by WGSL text: a kernel is compiled once per process, whichever graph
 * produced it. A WGSL error is an internal compiler bug, reported with the kernel's source.
 */
import { TesseraError } from '../ir/error.ts';
import { counters, debugFlags } from './stats.ts';

export class PipelineCache {
  private cache = new Map<string, Promise<GPUComputePipeline>>();
  constructor(private device: GPUDevice) {}
  get(wgsl: string, name: string): Promise<GPUComputePipeline> {
    const hit = this.cache.get(wgsl);
    if (hit) { counters.pipelineCacheHits++; return hit; }
    counters.kernelsCompiled++;
    if (debugFlags().has('wgsl')) console.log(`// ---- ${name}\n${wgsl}`);
    const p = this.create(wgsl, name);
    this.cache.set(wgsl, p);
    p.catch(() => this.cache.delete(wgsl));
    return p;
  }
  private async create(wgsl: string, name: string): Promise<GPUComputePipeline> {
    const module = this.device.createShaderModule({ code: wgsl, label: name });
    try {
      return await this.device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: name });
    } catch (e) {
      const info = await module.getCompilationInfo();
      const msgs = info.messages.map((m) => `${m.type} ${m.lineNum}:${m.linePos} ${m.message}`).join('\n');
      throw new TesseraError('codegen', `internal error: kernel ${name} failed to compile (${(e as Error).message})\n${msgs}\n${wgsl}`, 'please report this as a bug');
    }
  }
}
