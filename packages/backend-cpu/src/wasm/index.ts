/**
 * WebAssembly SIMD kernels for the CPU backend: a bytecode emitter, generated GEMM, im2col
 * and convolution kernels, a byte-offset allocator over one shared memory, and two-thread
 * execution.
 */
export { ARENA_ALIGN, Arena, createSharedMemory, type SharedMemoryOptions, sizeClass, WASM_PAGE_BYTES } from "./arena.js";
export { detectRelaxedSimd, detectRelaxedSimdSync, type SimdFlavour } from "./features.js";
export {
  type ConvGeometry,
  createWasmKernels,
  createWasmKernelsSync,
  type Im2colGeometry,
  type PoolGeometry,
  type Shape4,
  WasmKernels,
  type WasmKernelsOptions,
} from "./kernels.js";
export { WASM_BINARY, WASM_UNARY, type WasmBinaryOp, type WasmUnaryOp } from "./elementwise.js";
export { compileKernelModule, compileKernelModuleSync, type KernelExports, kernelModuleBytes } from "./module.js";
export type { WasmMemory, WasmModule } from "./wasm-api.js";
