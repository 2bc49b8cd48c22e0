// Browser-side checks run by scripts/browser-test.mjs (bundled by esbuild, loaded by headless Chromium).
// For now this is a standalone WebGPU smoke test that does not import the library; replace or extend
// `runChecks` with library calls. Each check must push exactly one result and never throw.

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

const DOUBLE_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> data: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i < arrayLength(&data)) {
    data[i] = data[i] * 2.0;
  }
}
`;

// TS 7's lib.dom has the WebGPU interfaces but not the GPUBufferUsage / GPUMapMode namespaces,
// so spell out the spec values here (they are fixed by the WebGPU spec).
const BufferUsage = { MAP_READ: 0x0001, COPY_SRC: 0x0004, COPY_DST: 0x0008, STORAGE: 0x0080 } as const;
const MapMode = { READ: 0x0001 } as const;

function errMsg(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Runs `fn` as one named check; a thrown error or a returned string (failure detail) fails it. */
async function check(
  out: Check[],
  name: string,
  fn: () => Promise<string | void> | string | void,
): Promise<boolean> {
  try {
    const failure = await fn();
    out.push(failure ? { name, ok: false, detail: failure } : { name, ok: true });
  } catch (e) {
    out.push({ name, ok: false, detail: errMsg(e) });
  }
  return out[out.length - 1]!.ok;
}

async function doubleFloats(device: GPUDevice, n: number): Promise<string | void> {
  const input = Float32Array.from({ length: n }, (_, i) => i * 0.25 - 100);
  const bytes = input.byteLength;

  const module = device.createShaderModule({ code: DOUBLE_WGSL });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) return `WGSL errors: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`;

  device.pushErrorScope('validation');

  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const storage = device.createBuffer({
    size: bytes,
    usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
  });
  const readback = device.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  try {
    device.queue.writeBuffer(storage, 0, input);
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: storage } }],
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    encoder.copyBufferToBuffer(storage, 0, readback, 0, bytes);
    device.queue.submit([encoder.finish()]);
    const validation = await device.popErrorScope();
    if (validation) return `validation error: ${validation.message}`;

    await readback.mapAsync(MapMode.READ);
    const result = new Float32Array(readback.getMappedRange().slice(0));
    readback.unmap();

    let bad = 0;
    let first = '';
    for (let i = 0; i < n; i++) {
      if (result[i] !== input[i]! * 2) {
        if (!bad) first = `first mismatch at ${i}: got ${result[i]}, want ${input[i]! * 2}`;
        bad++;
      }
    }
    if (bad) return `${bad}/${n} wrong; ${first}`;
  } finally {
    storage.destroy();
    readback.destroy();
  }
}

export async function runChecks(): Promise<Check[]> {
  const checks: Check[] = [];
  let adapter: GPUAdapter | null = null;
  let device: GPUDevice | null = null;

  await check(checks, 'navigator.gpu exists', () => ('gpu' in navigator ? undefined : 'navigator.gpu is missing (not a secure context?)'));
  const haveAdapter = await check(checks, 'requestAdapter', async () => {
    adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return 'requestAdapter() returned null (is chromium started with --enable-unsafe-webgpu?)';
  });
  if (!haveAdapter || !adapter) return checks;

  const haveDevice = await check(checks, 'requestDevice', async () => {
    device = await adapter!.requestDevice();
    device.addEventListener('uncapturederror', (ev) => {
      console.error('uncaptured WebGPU error:', (ev as GPUUncapturedErrorEvent).error.message);
    });
  });
  if (!haveDevice || !device) return checks;
  const dev: GPUDevice = device;

  await check(checks, 'compute: double 1000 f32', () => doubleFloats(dev, 1000));

  dev.destroy();
  return checks;
}
