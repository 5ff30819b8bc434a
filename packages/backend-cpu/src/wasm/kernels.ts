/**
 * The kernel module: generated, compiled once per SIMD flavour, instantiated on one shared
 * memory, and wrapped in TypeScript that validates arguments and splits big jobs over threads.
 */
import { Arena, createSharedMemory } from "./arena.js";
import { ModuleBuilder } from "./emitter.js";
import { detectRelaxedSimd, type SimdFlavour } from "./features.js";
import { emitGemm, GemmParam, PANEL, TILE_ROWS } from "./gemm.js";
import { emitIm2col, Im2colParam } from "./im2col.js";
import { emitRunJob, JOB_BYTES } from "./job.js";
import { JobRunner } from "./pool.js";

/** Job kinds, in the order {@link emitRunJob} dispatches them. */
const Kind = { gemm: 0, im2col: 1 } as const;

/** The functions the kernel module exports (pointers are byte offsets into the memory). */
export interface KernelExports {
  pack_b(K: number, N: number, B: number, ldb: number, transB: number, Bp: number, p0: number, p1: number): void;
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
  run_job(job: number): number;
}

/** The binary kernel module for one SIMD flavour (importing a shared memory as env.memory). */
export function kernelModuleBytes(flavour: SimdFlavour): Uint8Array {
  const mb = new ModuleBuilder();
  mb.importMemory("env", "memory", { initial: 1, maximum: 65536, shared: true });
  const { gemmChunk } = emitGemm(mb, flavour);
  const { im2colChunk } = emitIm2col(mb);
  emitRunJob(mb, [gemmChunk, im2colChunk]);
  return mb.toBytes();
}

const compiled = new Map<SimdFlavour, Promise<WebAssembly.Module>>();

/** The compiled kernel module for a flavour, compiled once per process. */
export function compileKernelModule(flavour: SimdFlavour): Promise<WebAssembly.Module> {
  let module = compiled.get(flavour);
  if (!module) {
    const bytes = kernelModuleBytes(flavour);
    module = (async () => {
      if (flavour === "relaxed" && !(await detectRelaxedSimd())) {
        throw new Error("compileKernelModule: relaxed SIMD is not available in this runtime");
      }
      return WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    })();
    compiled.set(flavour, module);
  }
  return module;
}

/** Options of {@link createWasmKernels}. */
export interface WasmKernelsOptions {
  /** `auto` (default): relaxed SIMD where the runtime has it, standard SIMD otherwise. */
  simd?: "auto" | SimdFlavour;
  /** Threads per kernel call (default 1); 2 starts one worker (Node only). */
  threads?: 1 | 2;
  /** Storage to run on (default: a new shared memory). Must be `shared: true`. */
  memory?: WebAssembly.Memory;
  /** Allocator of that memory (default: a new one; pass one to share it between instances). */
  arena?: Arena;
  /** GEMMs below this many flops (2·M·N·K) run on the caller alone (default 3e6 ≈ 100 µs). */
  parallelMinFlops?: number;
  /** `Atomics.load` polls a worker makes after a job before it sleeps (default 4000). */
  spin?: number;
}

/** Convolution geometry for {@link WasmKernels.im2col}; `Conv2dParams` fits. */
export interface Im2colGeometry {
  readonly stride?: readonly [number, number];
  readonly padding?: readonly [number, number];
  readonly dilation?: readonly [number, number];
}

/** Rows of A kept in L2 while all panels of B pass: about 128 KiB of A. */
function rowBlockFor(K: number): number {
  const rows = Math.floor(32768 / Math.max(K, 1) / TILE_ROWS) * TILE_ROWS;
  return Math.max(TILE_ROWS, rows);
}

/** Work per chunk of a threaded GEMM: small enough to balance, big enough to amortise a claim. */
const CHUNK_FLOPS = 0.5e6;
const MAX_CHUNKS_PER_JOB = 64;

/** How a GEMM is cut into chunks: a grid of row blocks × panel blocks. */
interface GemmPlan {
  rowsPerChunk: number;
  panelsPerChunk: number;
  rowChunks: number;
  panelChunks: number;
}

/** Splits along the longer side first, so each chunk keeps its share of A or B in cache. */
function planGemm(M: number, N: number, K: number, threads: number): GemmPlan {
  const target = Math.min(MAX_CHUNKS_PER_JOB, Math.max(threads, Math.floor((2 * M * N * K) / CHUNK_FLOPS)));
  const rowTiles = Math.ceil(M / TILE_ROWS);
  const panels = Math.ceil(N / PANEL);
  let rowChunks: number;
  let panelChunks: number;
  if (rowTiles >= panels) {
    rowChunks = Math.min(rowTiles, target);
    panelChunks = Math.min(panels, Math.ceil(target / rowChunks));
  } else {
    panelChunks = Math.min(panels, target);
    rowChunks = Math.min(rowTiles, Math.ceil(target / panelChunks));
  }
  // chunk row boundaries are multiples of the tile height, so every thread count tiles alike
  const rowsPerChunk = Math.ceil(rowTiles / rowChunks) * TILE_ROWS;
  const panelsPerChunk = Math.ceil(panels / panelChunks);
  return {
    rowsPerChunk,
    panelsPerChunk,
    rowChunks: Math.ceil(M / rowsPerChunk),
    panelChunks: Math.ceil(panels / panelsPerChunk),
  };
}

/**
 * Creates the kernels: picks the SIMD flavour, compiles (once per process), instantiates on
 * the memory and starts the worker for `threads: 2`.
 */
export async function createWasmKernels(options: WasmKernelsOptions = {}): Promise<WasmKernels> {
  const requested = options.simd ?? "auto";
  const flavour: SimdFlavour =
    requested === "auto" ? ((await detectRelaxedSimd()) ? "relaxed" : "standard") : requested;
  const module = await compileKernelModule(flavour);
  const arena = options.arena ?? new Arena(options.memory ?? createSharedMemory());
  if (options.memory && options.memory !== arena.memory) {
    throw new Error("createWasmKernels: options.memory and options.arena.memory differ");
  }
  const instance = await WebAssembly.instantiate(module, { env: { memory: arena.memory } });
  const exports = instance.exports as unknown as KernelExports;
  const job = arena.alloc(JOB_BYTES);
  const threads = options.threads ?? 1;
  const runner = await JobRunner.create(module, arena.memory, exports.run_job, job, {
    workers: threads - 1,
    spin: options.spin ?? 4000,
  });
  return new WasmKernels(flavour, arena, exports, runner, job, options.parallelMinFlops ?? 3e6);
}

/** WebAssembly SIMD kernels over tensors stored in one shared memory (byte-offset pointers). */
export class WasmKernels {
  /** Packed-B scratch, grown on demand and reused by every call. */
  private scratch = 0;
  private scratchBytes = 0;
  private disposed = false;

  /** @internal Use {@link createWasmKernels}. */
  constructor(
    /** The SIMD flavour the kernels were generated for: `relaxed` (fused multiply-add) or `standard`. */
    readonly simd: SimdFlavour,
    /** The allocator of the memory the kernels run on. */
    readonly arena: Arena,
    /** The raw wasm exports, for callers that manage chunking themselves. */
    readonly exports: KernelExports,
    private readonly runner: JobRunner,
    private readonly job: number,
    private readonly parallelMinFlops: number,
  ) {}

  /** The memory every pointer refers to. */
  get memory(): WebAssembly.Memory {
    return this.arena.memory;
  }

  /** Threads a large kernel call runs on (1, or 2 when the worker started). */
  get threads(): number {
    return this.runner.threads;
  }

  /**
   * C = op(A)·op(B) + beta·C, row-major f32, pointers are byte offsets. op(A) is M×K (A is
   * stored K×M when transA), op(B) is K×N (B stored N×K when transB), C is M×N; lda, ldb,
   * ldc are row strides of the stored matrices in elements. Results are bit-identical for
   * any thread count.
   */
  sgemm(
    M: number,
    N: number,
    K: number,
    A: number,
    lda: number,
    transA: boolean,
    B: number,
    ldb: number,
    transB: boolean,
    C: number,
    ldc: number,
    beta: 0 | 1,
  ): void {
    this.checkLive("sgemm");
    for (const [name, v] of [["M", M], ["N", N], ["K", K]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`sgemm: ${name} must be a non-negative integer, got ${v}`);
    }
    if (beta !== 0 && beta !== 1) throw new RangeError(`sgemm: beta must be 0 or 1, got ${String(beta)}`);
    const shapes = `(M=${M}, N=${N}, K=${K}, transA=${transA}, transB=${transB})`;
    this.checkMatrix("sgemm", "A", A, transA ? K : M, transA ? M : K, lda, shapes);
    this.checkMatrix("sgemm", "B", B, transB ? N : K, transB ? K : N, ldb, shapes);
    this.checkMatrix("sgemm", "C", C, M, N, ldc, shapes);
    if (M === 0 || N === 0) return;

    const panels = Math.ceil(N / PANEL);
    const Bp = this.packedScratch(K * panels * PANEL * 4);
    const mc = rowBlockFor(K);
    const tA = transA ? 1 : 0;
    const tB = transB ? 1 : 0;
    const ex = this.exports;
    if (this.runner.threads === 1 || 2 * M * N * K < this.parallelMinFlops) {
      ex.pack_b(K, N, B, ldb, tB, Bp, 0, panels);
      ex.gemm_block(0, M, 0, panels, N, K, A, lda, tA, Bp, C, ldc, beta, mc);
      return;
    }
    const plan = planGemm(M, N, K, this.runner.threads);
    const packInChunk = plan.rowChunks === 1;
    if (!packInChunk) ex.pack_b(K, N, B, ldb, tB, Bp, 0, panels);
    const params: number[] = [];
    params[GemmParam.M] = M;
    params[GemmParam.N] = N;
    params[GemmParam.K] = K;
    params[GemmParam.A] = A;
    params[GemmParam.lda] = lda;
    params[GemmParam.transA] = tA;
    params[GemmParam.B] = B;
    params[GemmParam.ldb] = ldb;
    params[GemmParam.transB] = tB;
    params[GemmParam.Bp] = Bp;
    params[GemmParam.C] = C;
    params[GemmParam.ldc] = ldc;
    params[GemmParam.beta] = beta;
    params[GemmParam.mc] = mc;
    params[GemmParam.rowsPerChunk] = plan.rowsPerChunk;
    params[GemmParam.panelsPerChunk] = plan.panelsPerChunk;
    params[GemmParam.panelChunks] = plan.panelChunks;
    params[GemmParam.packInChunk] = packInChunk ? 1 : 0;
    this.runner.run(Kind.gemm, plan.rowChunks * plan.panelChunks, params);
  }

  /**
   * Unfolds an NCHW f32 tensor at `x` ([N, C, H, W]) into `out`, a row-major matrix of
   * N·OH·OW rows and C·kh·kw columns (padding reads as 0); returns [OH, OW].
   */
  im2col(
    x: number,
    shape: readonly [number, number, number, number],
    kernel: readonly [number, number],
    geometry: Im2colGeometry,
    out: number,
  ): [number, number] {
    this.checkLive("im2col");
    const [N, C, H, W] = shape;
    const [kh, kw] = kernel;
    const [sh, sw] = geometry.stride ?? [1, 1];
    const [ph, pw] = geometry.padding ?? [0, 0];
    const [dh, dw] = geometry.dilation ?? [1, 1];
    const all = [N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw];
    if (!all.every((v) => Number.isInteger(v) && v >= 0) || sh < 1 || sw < 1 || dh < 1 || dw < 1 || kh < 1 || kw < 1) {
      throw new RangeError(
        `im2col: invalid geometry (input [${shape.join(",")}], kernel [${kh},${kw}], stride [${sh},${sw}], padding [${ph},${pw}], dilation [${dh},${dw}])`,
      );
    }
    const OH = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
    const OW = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
    if (OH < 1 || OW < 1) {
      throw new RangeError(`im2col: kernel [${kh},${kw}] (dilation [${dh},${dw}]) does not fit input [${shape.join(",")}] with padding [${ph},${pw}]`);
    }
    const where = `(input [${shape.join(",")}], kernel [${kh},${kw}])`;
    this.checkMatrix("im2col", "x", x, N * C, H * W, H * W, where);
    this.checkMatrix("im2col", "out", out, N * OH * OW, C * kh * kw, C * kh * kw, where);
    if (N === 0 || C === 0) return [OH, OW];

    const flops = N * OH * OW * C * kh * kw; // one copy per element
    if (this.runner.threads === 1 || N === 1 || flops < this.parallelMinFlops / 4) {
      this.exports.im2col(0, N, x, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, out);
      return [OH, OW];
    }
    const imagesPerChunk = Math.max(1, Math.ceil(N / (4 * this.runner.threads)));
    const params: number[] = [];
    params[Im2colParam.X] = x;
    params[Im2colParam.C] = C;
    params[Im2colParam.H] = H;
    params[Im2colParam.W] = W;
    params[Im2colParam.kh] = kh;
    params[Im2colParam.kw] = kw;
    params[Im2colParam.sh] = sh;
    params[Im2colParam.sw] = sw;
    params[Im2colParam.ph] = ph;
    params[Im2colParam.pw] = pw;
    params[Im2colParam.dh] = dh;
    params[Im2colParam.dw] = dw;
    params[Im2colParam.OH] = OH;
    params[Im2colParam.OW] = OW;
    params[Im2colParam.out] = out;
    params[Im2colParam.images] = N;
    params[Im2colParam.imagesPerChunk] = imagesPerChunk;
    this.runner.run(Kind.im2col, Math.ceil(N / imagesPerChunk), params);
    return [OH, OW];
  }

  /**
   * Stops the worker and frees this instance's scratch memory; the memory and arena stay
   * usable. Resolves when the worker has exited (it never keeps the process alive meanwhile).
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.runner.dispose();
    if (this.scratch !== 0) this.arena.free(this.scratch);
    this.arena.free(this.job);
    this.scratch = 0;
  }

  /** `using kernels = await createWasmKernels()` disposes at scope exit. */
  [Symbol.dispose](): void {
    void this.dispose();
  }

  private checkLive(op: string): void {
    if (this.disposed) throw new Error(`${op}: the kernels were disposed`);
  }

  /** A rows×cols matrix with row stride ld at ptr must lie inside the memory. */
  private checkMatrix(op: string, name: string, ptr: number, rows: number, cols: number, ld: number, shapes: string): void {
    if (!Number.isInteger(ld) || ld < Math.max(cols, 1)) {
      throw new RangeError(`${op}: leading dimension of ${name} is ${ld}, expected an integer >= ${Math.max(cols, 1)} ${shapes}`);
    }
    if (!Number.isInteger(ptr) || ptr < 0 || ptr % 4 !== 0) {
      throw new RangeError(`${op}: ${name} = ${ptr} is not a 4-byte-aligned offset ${shapes}`);
    }
    const bytes = rows === 0 || cols === 0 ? 0 : ((rows - 1) * ld + cols) * 4;
    const size = this.memory.buffer.byteLength;
    if (ptr + bytes > size) {
      throw new RangeError(`${op}: ${name} spans bytes [${ptr}, ${ptr + bytes}) beyond the memory's ${size} ${shapes}`);
    }
  }

  /** The packed-B scratch block, reallocated only when a call needs more. */
  private packedScratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratch !== 0) this.arena.free(this.scratch);
      this.scratchBytes = Math.max(bytes, this.scratchBytes * 2);
      this.scratch = this.arena.alloc(this.scratchBytes);
    }
    return this.scratch;
  }
}
