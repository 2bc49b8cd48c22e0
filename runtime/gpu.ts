/**
 * WebGPU constants. TypeScript's DOM lib declares the WebGPU interfaces but not the
 * GPUBufferUsage / GPUMapMode objects, and Node's `webgpu` only installs them as globals,
 * so the spec values live here.
 */
export const BufferUsage = { MAP_READ: 0x1, MAP_WRITE: 0x2, COPY_SRC: 0x4, COPY_DST: 0x8, INDEX: 0x10, VERTEX: 0x20, UNIFORM: 0x40, STORAGE: 0x80, INDIRECT: 0x100, QUERY_RESOLVE: 0x200 } as const;
export const MapMode = { READ: 0x1, WRITE: 0x2 } as const;
