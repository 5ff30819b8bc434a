/**
 * The kernel module: generated from TypeScript, compiled once per SIMD flavour and process,
 * synchronously (what a synchronous backend factory needs; Node allows it for any size) or
 * asynchronously (browsers refuse synchronous compilation of large modules on the main thread).
 */
import { createSharedMemory } from "./arena.js";
import { emitConv } from "./conv.js";
import { emitSparseConv } from "./conv-sparse.js";
import { emitDirectWeightGradient } from "./conv-weight-direct.js";
import { emitElementwise, type WasmBinaryOp, type WasmUnaryOp } from "./elementwise.js";
import { ModuleBuilder } from "./emitter.js";
import { detectRelaxedSimd, detectRelaxedSimdSync, type SimdFlavour } from "./features.js";
import { emitGemm, PANEL } from "./gemm.js";
import { emitIm2col } from "./im2col.js";
import { emitRunJob } from "./job.js";
import { emitPooling } from "./pooling.js";
import { type WasmInstance, type WasmMemory, type WasmModule, wasmApi } from "./wasm-api.js";

/** Job kinds, in the order `run_job` dispatches them. */
export const Kind = {
  gemm: 0,
  im2col: 1,
  gemmSum: 2,
  convForward: 3,
  convBackwardInput: 4,
  pool: 5,
  unary: 6,
  binary: 7,
  convWeightDirect: 8,
  convWeightSparse: 9,
  convInputSparse: 10,
} as const;

/** The name of each job kind, by number (for error messages). */
export const KIND_NAMES: readonly string[] = Object.keys(Kind);

/** `unary_<op>(n, x, sx, out)`: n floats of x at element stride sx into a contiguous out. */
type UnaryKernel = (n: number, x: number, sx: number, out: number) => void;
/** `binary_<op>(n, a, sa, b, sb, out)`: element strides sa, sb (0: a broadcast scalar). */
type BinaryKernel = (n: number, a: number, sa: number, b: number, sb: number, out: number) => void;
/** `maxpool*(p0, p1, x, H, W, y, OH, OW, kh, kw, sh, sw, ph, pw, dx)`. */
type PoolKernel = (...args: number[]) => void;

/** The functions the kernel module exports (pointers are byte offsets into the memory). */
export interface KernelExports {
  pack_b(K: number, N: number, B: number, ldb: number, transB: number, direct: number, Bp: number, p0: number, p1: number): void;
  gemm_block(
    i0: number,
    i1: number,
    p0: number,
    p1: number,
    N: number,
    K: number,
    A: number,
    lda: number,
    transA: number,
    B: number,
    ldb: number,
    direct: number,
    Bp: number,
    C: number,
    ldc: number,
    beta: number,
    mc: number,
  ): void;
  im2col(
    n0: number,
    n1: number,
    X: number,
    C: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    dh: number,
    dw: number,
    OH: number,
    OW: number,
    out: number,
  ): void;
  col2im(
    X: number,
    C: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    dh: number,
    dw: number,
    OH: number,
    OW: number,
    cols: number,
  ): void;
  run_job(job: number, thread: number): number;
  /** Elements of n floats at x that are not ±0 (NaN counts). */
  count_nonzero(n: number, x: number): number;
  /** 1 when none of n floats at x is ±∞ or NaN, else 0. */
  all_finite(n: number, x: number): number;
  sum_rows(rows: number, n: number, x: number, out: number): void;
  maxpool: PoolKernel;
  maxpool_grad: PoolKernel;
  maxpool2x2: PoolKernel;
  maxpool2x2_grad: PoolKernel;
}

/** The elementwise kernels by op, as `unary_<op>` / `binary_<op>` exports. */
export type ElementwiseExports = { [K in `unary_${WasmUnaryOp}`]: UnaryKernel } & { [K in `binary_${WasmBinaryOp}`]: BinaryKernel };

/** The binary kernel module for one SIMD flavour (importing a shared memory as env.memory). */
export function kernelModuleBytes(flavour: SimdFlavour): Uint8Array {
  const mb = new ModuleBuilder();
  mb.importMemory("env", "memory", { initial: 1, maximum: 65536, shared: true });
  const { packB, gemmBlock, gemmChunk, gemmSumChunk } = emitGemm(mb, flavour);
  const { im2col, im2colChunk, col2im } = emitIm2col(mb);
  const { convForwardChunk, convBackwardInputChunk } = emitConv(mb, { packB, gemmBlock, im2col, col2im });
  const { poolChunk } = emitPooling(mb);
  const { unaryChunk, binaryChunk } = emitElementwise(mb);
  const directWeightChunk = emitDirectWeightGradient(mb, flavour);
  const { sparseWeightChunk, sparseInputChunk } = emitSparseConv(mb, flavour, im2col, col2im);
  // the order of Kind
  emitRunJob(mb, [
    gemmChunk,
    im2colChunk,
    gemmSumChunk,
    convForwardChunk,
    convBackwardInputChunk,
    poolChunk,
    unaryChunk,
    binaryChunk,
    directWeightChunk,
    sparseWeightChunk,
    sparseInputChunk,
  ]);
  return mb.toBytes();
}

/** Modules compiled (and warmed up) so far, by flavour. */
const compiled = new Map<SimdFlavour, WasmModule>();

function requireRelaxed(flavour: SimdFlavour, available: boolean): void {
  if (flavour === "relaxed" && !available) {
    throw new Error("compileKernelModule: relaxed SIMD is not available in this runtime");
  }
}

/** The compiled kernel module for a flavour, compiled synchronously once per process. */
export function compileKernelModuleSync(flavour: SimdFlavour): WasmModule {
  let module = compiled.get(flavour);
  if (!module) {
    requireRelaxed(flavour, flavour !== "relaxed" || detectRelaxedSimdSync());
    module = new wasmApi.Module(kernelModuleBytes(flavour));
    warmUp(instantiateSync(module, createSharedMemory({ initialPages: 4, maximumPages: 4 })));
    compiled.set(flavour, module);
  }
  return module;
}

/** The same, compiled off the main thread where the runtime can. */
export async function compileKernelModule(flavour: SimdFlavour): Promise<WasmModule> {
  let module = compiled.get(flavour);
  if (!module) {
    requireRelaxed(flavour, flavour !== "relaxed" || (await detectRelaxedSimd()));
    module = await wasmApi.compile(kernelModuleBytes(flavour));
    warmUp(await instantiate(module, createSharedMemory({ initialPages: 4, maximumPages: 4 })));
    compiled.set(flavour, module);
  }
  return module;
}

/** An instance of the kernel module on `memory`. */
export function instantiateSync(module: WasmModule, memory: WasmMemory): KernelExports & ElementwiseExports {
  return new wasmApi.Instance(module, { env: { memory } }).exports as unknown as KernelExports & ElementwiseExports;
}

/** The same, asynchronously. */
export async function instantiate(module: WasmModule, memory: WasmMemory): Promise<KernelExports & ElementwiseExports> {
  const instance: WasmInstance = await wasmApi.instantiate(module, { env: { memory } });
  return instance.exports as unknown as KernelExports & ElementwiseExports;
}

/**
 * Runs the hot functions on small problems until V8 has optimised them. V8 first runs wasm
 * from its baseline compiler, several times slower for these kernels, and optimises a
 * function only after it has done a certain amount of work, taking effect at its next call
 * (a first LeNet conv2 GEMM took 72 ms instead of 1.5). About 2 ms, once per process.
 * `ex` runs on a scratch memory of at least 4 pages.
 */
function warmUp(ex: KernelExports & ElementwiseExports): void {
  // A at 0, B at 64 KiB, packed B at 128 KiB, C at 192 KiB: up to 67×16×128 (all < 64 KiB)
  const [A, B, Bp, C] = [0, 1, 2, 3].map((i) => i * 65536) as [number, number, number, number];
  const K = 128;
  const N = 16;
  for (let i = 0; i < 48; i++) {
    const M = 64 + (i % 4); // the row-edge tiles too
    const transA = i & 1;
    const transB = (i >> 1) & 1;
    const direct = transB ? 0 : (i >> 2) & 1;
    const ldb = transB ? K : N;
    const pad = i & 1;
    const side = 8 + 2 * pad;
    ex.pack_b(K, N, B, ldb, transB, direct, Bp, 0, N / PANEL);
    ex.gemm_block(0, M, 0, N / PANEL, N, K, A, transA ? M : K, transA, B, ldb, direct, Bp, C, N, i & 1, 64);
    ex.im2col(0, 2, A, 2, 12, 12, 5, 5, 1, 1, pad, pad, 1, 1, side, side, C);
    ex.col2im(A, 2, 12, 12, 5, 5, 1, 1, pad, pad, 1, 1, side, side, C);
    // 8 planes of 16×16 pooled 2×2 (both kernels), then elementwise runs of 4096 floats
    ex.maxpool2x2(0, 8, A, 16, 16, C, 8, 8, 2, 2, 2, 2, 0, 0, Bp);
    ex.maxpool2x2_grad(0, 8, A, 16, 16, C, 8, 8, 2, 2, 2, 2, 0, 0, Bp);
    ex.maxpool(0, 2, A, 16, 16, C, 8, 8, 3, 3, 2, 2, 1, 1, Bp);
    ex.maxpool_grad(0, 2, A, 16, 16, C, 8, 8, 3, 3, 2, 2, 1, 1, Bp);
    ex.unary_tanh(4096, A, 1, C);
    ex.unary_exp(4096, A, 1, C);
    for (const op of ["add", "sub", "mul"] as const) ex[`binary_${op}`](4096, A, 1, B, i & 1, C);
    ex.sum_rows(4, 1024, A, C);
  }
}
