/**
 * WebAssembly SIMD kernels over tensors stored in one shared memory: argument checks, the
 * plans that cut big calls into chunks, and the threads that run them. Every plan depends on
 * the shapes only, never on the number of threads, and a sum is split across chunks only at
 * places fixed by the shapes (the sparse weight gradient's image ranges, whose partial sums are
 * added in order), so results are bit-identical whether one or two threads run them.
 */
import { Arena, createSharedMemory } from "./arena.js";
import { ConvParam } from "./conv.js";
import { SPARSE_ENTRY_BYTES, SparseInputParam, SparseWeightParam } from "./conv-sparse.js";
import { DIRECT_WEIGHT_MAX_KW, DirectWeightParam } from "./conv-weight-direct.js";
import { detectRelaxedSimd, detectRelaxedSimdSync, type SimdFlavour } from "./features.js";
import { GemmParam, GemmSumParam, PANEL, TILE_ROWS } from "./gemm.js";
import { Im2colParam } from "./im2col.js";
import { JOB_BYTES } from "./job.js";
import { ElementwiseParam, WASM_BINARY, WASM_UNARY, type WasmBinaryOp, type WasmUnaryOp } from "./elementwise.js";
import { compileKernelModule, compileKernelModuleSync, type ElementwiseExports, instantiate, instantiateSync, Kind, type KernelExports } from "./module.js";
import { PoolParam } from "./pooling.js";
import { JobRunner } from "./pool.js";
import { cacheLines, Scratch } from "./scratch.js";
import { isSharedMemory, type WasmMemory, type WasmModule } from "./wasm-api.js";

/** Options of {@link createWasmKernels} and {@link createWasmKernelsSync}. */
export interface WasmKernelsOptions {
  /** `auto` (default): relaxed SIMD where the runtime has it, standard SIMD otherwise. */
  simd?: "auto" | SimdFlavour;
  /**
   * Threads per kernel call (default 1); 2 starts one worker: a Node worker thread, or a Web
   * Worker in a cross-origin isolated page (elsewhere in a browser the caller runs alone).
   */
  threads?: 1 | 2;
  /** Storage to run on (default: a new shared memory). Must be `shared: true`. */
  memory?: WasmMemory;
  /** Allocator of that memory (default: a new one; pass one to share it between instances). */
  arena?: Arena;
  /** GEMMs below this many flops (2·M·N·K) run on the caller alone (default 3e6 ≈ 100 µs). */
  parallelMinFlops?: number;
  /** `Atomics.load` polls a worker makes after a job before it sleeps (default 4000). */
  spin?: number;
  /**
   * For tests: in every job shared with the worker, the caller waits for the worker to claim a
   * chunk first, so the worker provably takes part (`stats.workerJobs === stats.jobs`) however
   * busy the machine (default false).
   */
  awaitWorker?: boolean;
  /**
   * Convolution gradients skip the zeros of dy when at most this fraction of it is nonzero
   * (default 0.4; behind a 2×2 max pool it is 0.25). 0 never skips, 1 always does.
   */
  sparseMaxDensity?: number;
}

/** Convolution geometry for {@link WasmKernels.im2col}; `Conv2dParams` fits. */
export interface Im2colGeometry {
  readonly stride?: readonly [number, number];
  readonly padding?: readonly [number, number];
  readonly dilation?: readonly [number, number];
}

/** Convolution geometry with groups; `Conv2dParams` fits. */
export interface ConvGeometry extends Im2colGeometry {
  readonly groups?: number;
}

/** An NCHW tensor's shape, or a weight's [O, C/groups, kh, kw]. */
export type Shape4 = readonly [number, number, number, number];

/** Pooling geometry; `Pool2dParams` fits (ceil mode is already in the output shape). */
export interface PoolGeometry {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
}

/** Pooling jobs hand out planes in at most this many chunks. */
const POOL_CHUNKS = 32;

/** Unary ops that evaluate a polynomial and a division per element. */
const TRANSCENDENTAL: ReadonlySet<WasmUnaryOp> = new Set(["exp", "tanh", "sigmoid"]);

/** Elementwise jobs cut a run into this many chunks. */
const ELEMENTWISE_CHUNKS = 16;

/** Rows of A kept in L2 while all panels of B pass: about 128 KiB of A. */
function rowBlockFor(K: number): number {
  const rows = Math.floor(32768 / Math.max(K, 1) / TILE_ROWS) * TILE_ROWS;
  return Math.max(TILE_ROWS, rows);
}

/**
 * Up to this many rows, full panels of untransposed B are read in place, not packed: packing
 * copies K·N floats whatever M is, and few row tiles share the copy. Measured (1 thread):
 * 20×500×800 is 12% faster in place, 1280×50×500 15% faster packed.
 */
const DIRECT_B_MAX_ROWS = 48;

/** Work per chunk of a threaded GEMM: small enough to balance, big enough to amortise a claim. */
const CHUNK_FLOPS = 0.5e6;
const MAX_CHUNKS_PER_JOB = 64;

/**
 * Convolution jobs hand out images in at most this many chunks: enough to balance two
 * threads when the other core is busy, few enough that claiming one costs nothing.
 */
const CONV_CHUNKS = 64;

/**
 * Weight-gradient jobs cut the columns of dW into at most this many blocks, and its rows too
 * when the columns give fewer than half as many (a small dW still splits).
 */
const WEIGHT_GRADIENT_CHUNKS = 16;

/** The weight gradient im2cols this many bytes of images at a time (then sums their GEMMs). */
const WEIGHT_GRADIENT_COLS_BYTES = 4 << 20;

/**
 * Sparse weight-gradient jobs cut the images into at most this many chunks, of at least
 * SPARSE_WEIGHT_MIN_IMAGES each: every chunk has a partial dW to add at the end, and the
 * partials take at most SPARSE_PARTIALS_BYTES (but two chunks are always allowed).
 */
const SPARSE_WEIGHT_CHUNKS = 16;
const SPARSE_WEIGHT_MIN_IMAGES = 4;
const SPARSE_PARTIALS_BYTES = 32 << 20;

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

/** The direct weight gradient splits the filters into at most this many chunks. */
const DIRECT_WEIGHT_CHUNKS = 16;

/**
 * Filters up to this many weights (C·kh·kw) get the direct weight gradient: as a GEMM their
 * dW has too few columns to fill the tiles, and the im2col costs more than the arithmetic.
 */
const DIRECT_WEIGHT_MAX_K = 64;

/** One group, stride 1, no padding, no dilation: windows are plain runs of the image's rows. */
function isPlainConv(g: ConvPlan): boolean {
  return g.groups === 1 && g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1 && g.ph === 0 && g.pw === 0;
}

/** Whether a convolution's weight gradient runs the direct kernel. */
function directWeightGradient(g: ConvPlan): boolean {
  return isPlainConv(g) && g.K <= DIRECT_WEIGHT_MAX_K && g.kw <= DIRECT_WEIGHT_MAX_KW && g.OW % 4 === 0;
}

/** A convolution's sizes, checked. */
interface ConvPlan {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  OH: number;
  OW: number;
  groups: number;
  /** Output channels per group. */
  Og: number;
  /** im2col columns per group (C/groups·kh·kw) and in all (C·kh·kw). */
  K: number;
  Ktot: number;
  /** OH·OW. */
  pixels: number;
  /** im2col's geometry arguments after X: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW. */
  geometry: number[];
}

function planConv(op: string, xShape: Shape4, wShape: Shape4, p: ConvGeometry): ConvPlan {
  const [N, C, H, W] = xShape;
  const [O, Cg, kh, kw] = wShape;
  const [sh, sw] = p.stride ?? [1, 1];
  const [ph, pw] = p.padding ?? [0, 0];
  const [dh, dw] = p.dilation ?? [1, 1];
  const groups = p.groups ?? 1;
  const all = [N, C, H, W, O, Cg, kh, kw, sh, sw, ph, pw, dh, dw, groups];
  const OH = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const valid =
    all.every((v) => Number.isInteger(v) && v >= 0) &&
    Math.min(sh, sw, dh, dw, kh, kw, groups) >= 1 &&
    Cg * groups === C &&
    O % groups === 0 &&
    OH >= 1 &&
    OW >= 1;
  if (!valid) {
    throw new RangeError(
      `${op}: invalid convolution (input [${xShape.join(",")}], weight [${wShape.join(",")}], stride [${sh},${sw}], padding [${ph},${pw}], dilation [${dh},${dw}], groups ${groups})`,
    );
  }
  const K = Cg * kh * kw;
  return {
    N,
    C,
    H,
    W,
    O,
    kh,
    kw,
    sh,
    sw,
    ph,
    pw,
    dh,
    dw,
    OH,
    OW,
    groups,
    Og: O / groups,
    K,
    Ktot: K * groups,
    pixels: OH * OW,
    geometry: [C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW],
  };
}

/** Images per chunk of a convolution job over N images (a function of N alone). */
function imagesPerChunk(N: number): number {
  return Math.max(1, Math.ceil(N / CONV_CHUNKS));
}

/** The SIMD flavour an `auto` request resolves to, synchronously. */
function flavourSync(requested: WasmKernelsOptions["simd"]): SimdFlavour {
  if (requested && requested !== "auto") return requested;
  return detectRelaxedSimdSync() ? "relaxed" : "standard";
}

/** The arena the options describe, checked to be on a shared memory. */
function arenaOf(options: WasmKernelsOptions, op: string): Arena {
  const arena = options.arena ?? new Arena(options.memory ?? createSharedMemory());
  if (options.memory && options.memory !== arena.memory) {
    throw new Error(`${op}: options.memory and options.arena.memory differ`);
  }
  if (!isSharedMemory(arena.memory)) {
    throw new Error(`${op}: the memory must be created with shared: true (see createSharedMemory)`);
  }
  return arena;
}

/**
 * Creates the kernels synchronously: picks the SIMD flavour, compiles (once per process) and
 * instantiates on the memory. Calls run on the calling thread at once; with `threads: 2` the
 * worker comes online a few milliseconds later (`kernels.ready`), which changes no result.
 * Synchronous compilation is a Node (or worker) affair: browsers refuse it for large modules
 * on their main thread, where {@link createWasmKernels} is the way.
 */
export function createWasmKernelsSync(options: WasmKernelsOptions = {}): WasmKernels {
  const arena = arenaOf(options, "createWasmKernelsSync");
  const simd = flavourSync(options.simd);
  const module = compileKernelModuleSync(simd);
  return new WasmKernels(simd, arena, instantiateSync(module, arena.memory), module, options);
}

/** Creates the kernels asynchronously and resolves once every thread is running. */
export async function createWasmKernels(options: WasmKernelsOptions = {}): Promise<WasmKernels> {
  const arena = arenaOf(options, "createWasmKernels");
  const requested = options.simd ?? "auto";
  const simd: SimdFlavour = requested === "auto" ? ((await detectRelaxedSimd()) ? "relaxed" : "standard") : requested;
  const module = await compileKernelModule(simd);
  const kernels = new WasmKernels(simd, arena, await instantiate(module, arena.memory), module, options);
  await kernels.ready;
  if (kernels.startError !== undefined) {
    await kernels.dispose();
    throw kernels.startError;
  }
  return kernels;
}

/** WebAssembly SIMD kernels over tensors stored in one shared memory (byte-offset pointers). */
export class WasmKernels {
  /** Resolves once the worker threads asked for are running (or failed to start: see startError). */
  readonly ready: Promise<void>;
  /** Why a worker failed to start, if one did; the kernels then run on fewer threads. */
  startError: unknown;
  /** Most threads a call may run on: scratch is laid out for this many. */
  readonly maxThreads: number;
  private readonly runner: JobRunner;
  private readonly job: number;
  private readonly parallelMinFlops: number;
  private readonly sparseMaxDensity: number;
  private sparseGradients = 0;
  /** Packed B of sgemm, and the packed weight of the input gradient. */
  private readonly packScratch: Scratch;
  /** One region per thread (cols, packed panels) for the convolution jobs. */
  private readonly threadScratch: Scratch;
  /** im2col of a group of images, for the weight gradient. */
  private readonly colsScratch: Scratch;
  private disposed = false;

  /** @internal Use {@link createWasmKernels} or {@link createWasmKernelsSync}. */
  constructor(
    /** The SIMD flavour the kernels were generated for: `relaxed` (fused multiply-add) or `standard`. */
    readonly simd: SimdFlavour,
    /** The allocator of the memory the kernels run on. */
    readonly arena: Arena,
    /** The raw wasm exports, for callers that manage chunking themselves. */
    readonly exports: KernelExports & ElementwiseExports,
    module: WasmModule,
    options: WasmKernelsOptions,
  ) {
    this.maxThreads = options.threads ?? 1;
    this.parallelMinFlops = options.parallelMinFlops ?? 3e6;
    this.sparseMaxDensity = options.sparseMaxDensity ?? 0.4;
    if (!(this.sparseMaxDensity >= 0 && this.sparseMaxDensity <= 1)) {
      throw new RangeError(`createWasmKernels: sparseMaxDensity must be a number from 0 to 1, got ${String(options.sparseMaxDensity)}`);
    }
    this.packScratch = new Scratch(arena);
    this.threadScratch = new Scratch(arena);
    this.colsScratch = new Scratch(arena);
    // two descriptors: the one workers watch, and one for jobs the caller runs alone
    this.job = arena.alloc(2 * JOB_BYTES);
    this.runner = new JobRunner(this.job, this.job + JOB_BYTES, arena.memory, exports.run_job, { awaitWorker: options.awaitWorker ?? false });
    this.ready = this.runner.startWorkers(module, arena.memory, { workers: this.maxThreads - 1, spin: options.spin ?? 4000 }).catch((e: unknown) => {
      this.startError = e;
    });
  }

  /** The memory every pointer refers to. */
  get memory(): WasmMemory {
    return this.arena.memory;
  }

  /**
   * Threaded jobs run so far, their chunks, and how many of those the calling thread ran; the
   * threaded jobs in which the worker ran a chunk; jobs the caller ran alone, and stalls (see
   * JobRunner).
   */
  get stats(): {
    readonly jobs: number;
    readonly chunks: number;
    readonly callerChunks: number;
    readonly workerJobs: number;
    readonly soloJobs: number;
    readonly stalls: number;
    /** Convolution gradients that skipped dy's zeros. */
    readonly sparseGradients: number;
  } {
    return { ...this.runner.stats, sparseGradients: this.sparseGradients };
  }

  /** Threads a large kernel call runs on now (1, or 2 once the worker is running). */
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
    for (const [name, v] of [
      ["M", M],
      ["N", N],
      ["K", K],
    ] as const) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`sgemm: ${name} must be a non-negative integer, got ${v}`);
    }
    if (beta !== 0 && beta !== 1) throw new RangeError(`sgemm: beta must be 0 or 1, got ${String(beta)}`);
    const shapes = () => `(M=${M}, N=${N}, K=${K}, transA=${transA}, transB=${transB})`;
    this.checkMatrix("sgemm", "A", A, transA ? K : M, transA ? M : K, lda, shapes);
    this.checkMatrix("sgemm", "B", B, transB ? N : K, transB ? K : N, ldb, shapes);
    this.checkMatrix("sgemm", "C", C, M, N, ldc, shapes);
    if (M === 0 || N === 0) return;

    const panels = Math.ceil(N / PANEL);
    const Bp = this.packScratch.get(K * panels * PANEL * 4);
    const mc = rowBlockFor(K);
    const tA = transA ? 1 : 0;
    const tB = transB ? 1 : 0;
    const direct = !transB && M <= DIRECT_B_MAX_ROWS ? 1 : 0;
    const ex = this.exports;
    if (this.runner.threads === 1 || 2 * M * N * K < this.parallelMinFlops) {
      ex.pack_b(K, N, B, ldb, tB, direct, Bp, 0, panels);
      ex.gemm_block(0, M, 0, panels, N, K, A, lda, tA, B, ldb, direct, Bp, C, ldc, beta, mc);
      return;
    }
    const plan = planGemm(M, N, K, this.runner.threads);
    const packInChunk = plan.rowChunks === 1;
    if (!packInChunk) ex.pack_b(K, N, B, ldb, tB, direct, Bp, 0, panels);
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
    params[GemmParam.direct] = direct;
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
    const where = () => `(input [${shape.join(",")}], kernel [${kh},${kw}])`;
    this.checkMatrix("im2col", "x", x, N * C, H * W, H * W, where);
    this.checkMatrix("im2col", "out", out, N * OH * OW, C * kh * kw, C * kh * kw, where);
    if (N === 0 || C === 0) return [OH, OW];

    // a copied element costs about what 16 GEMM flops do, so share the same threshold
    const elements = N * OH * OW * C * kh * kw;
    if (this.runner.threads === 1 || N === 1 || elements * 16 < this.parallelMinFlops) {
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
   * Cross-correlation of NCHW f32 `x` ([N, C, H, W]) with `w` ([O, C/groups, kh, kw]) into
   * `out` ([N, O, OH, OW]), as PyTorch's conv2d computes it. Per image: im2col into the
   * thread's scratch, then one GEMM per group that writes the NCHW output in place.
   */
  conv2d(x: number, xShape: Shape4, w: number, wShape: Shape4, out: number, p: ConvGeometry = {}): void {
    this.checkLive("conv2d");
    const g = planConv("conv2d", xShape, wShape, p);
    const shapes = () => `(input [${xShape.join(",")}], weight [${wShape.join(",")}])`;
    this.checkSpan("conv2d", "x", x, g.N * g.C * g.H * g.W, shapes);
    this.checkSpan("conv2d", "w", w, g.O * g.K, shapes);
    this.checkSpan("conv2d", "out", out, g.N * g.O * g.pixels, shapes);
    if (g.N === 0 || g.O === 0) return;
    const packDirect = isPlainConv(g) && g.OW % PANEL === 0;
    // packing straight from the image needs no cols
    const colsBytes = packDirect ? 0 : cacheLines(g.pixels * g.Ktot * 4);
    const stride = cacheLines(colsBytes + Math.ceil(g.pixels / PANEL) * g.K * PANEL * 4);
    this.runConv(Kind.convForward, g, x, w, out, stride, colsBytes, rowBlockFor(g.K), packDirect);
  }

  /**
   * Gradient of {@link conv2d} with respect to its input: `dx` ([N, C, H, W]) from `dy`
   * ([N, O, OH, OW]) and `w`. Per image: `dcols = dyᵀ·W` per group into the thread's
   * scratch, then col2im adds each entry back to its pixel.
   */
  conv2dBackwardInput(dy: number, w: number, wShape: Shape4, dx: number, xShape: Shape4, p: ConvGeometry = {}): void {
    this.checkLive("conv2dBackwardInput");
    const g = planConv("conv2dBackwardInput", xShape, wShape, p);
    const shapes = () => `(input [${xShape.join(",")}], weight [${wShape.join(",")}])`;
    this.checkSpan("conv2dBackwardInput", "dy", dy, g.N * g.O * g.pixels, shapes);
    this.checkSpan("conv2dBackwardInput", "w", w, g.O * g.K, shapes);
    this.checkSpan("conv2dBackwardInput", "dx", dx, g.N * g.C * g.H * g.W, shapes);
    if (g.N === 0 || g.C === 0) return;
    if (g.groups === 1 && g.O > 0 && this.isSparse(dy, g.N * g.O * g.pixels) && this.exports.all_finite(g.O * g.K, w) === 1) {
      this.sparseInputGradient(g, dy, w, dx);
      return;
    }
    // every image multiplies by the same W_g: pack each group's panels once, here
    const panels = Math.ceil(g.K / PANEL);
    const groupBytes = g.Og * panels * PANEL * 4;
    const packed = this.packScratch.get(g.groups * groupBytes);
    for (let group = 0; group < g.groups; group++) {
      this.exports.pack_b(g.Og, g.K, w + group * g.Og * g.K * 4, g.K, 0, 0, packed + group * groupBytes, 0, panels);
    }
    const stride = cacheLines(g.pixels * g.Ktot * 4);
    this.runConv(Kind.convBackwardInput, g, dx, packed, dy, stride, 0, rowBlockFor(g.Og));
  }

  /**
   * Gradient of {@link conv2d} with respect to its weight: `dw` ([O, C/groups, kh, kw]) =
   * Σ_n dy_n · im2col(x_n) per group. Images are im2col'd a few MiB at a time, then a summed
   * GEMM adds them into dw image by image; threads split dw's columns, never the sum.
   */
  conv2dBackwardWeight(x: number, xShape: Shape4, dy: number, dw: number, wShape: Shape4, p: ConvGeometry = {}): void {
    this.checkLive("conv2dBackwardWeight");
    const g = planConv("conv2dBackwardWeight", xShape, wShape, p);
    const shapes = () => `(input [${xShape.join(",")}], weight [${wShape.join(",")}])`;
    this.checkSpan("conv2dBackwardWeight", "x", x, g.N * g.C * g.H * g.W, shapes);
    this.checkSpan("conv2dBackwardWeight", "dy", dy, g.N * g.O * g.pixels, shapes);
    this.checkSpan("conv2dBackwardWeight", "dw", dw, g.O * g.K, shapes);
    if (g.O === 0 || g.K === 0) return;
    if (g.N === 0) {
      this.arena.f32view(dw, g.O * g.K).fill(0);
      return;
    }
    if (directWeightGradient(g)) {
      this.directWeightGradient(g, x, dy, dw);
      return;
    }
    if (g.groups === 1 && this.isSparse(dy, g.N * g.O * g.pixels) && this.exports.all_finite(g.N * g.C * g.H * g.W, x) === 1) {
      this.sparseWeightGradient(g, x, dy, dw);
      return;
    }
    const imageCols = g.pixels * g.Ktot * 4;
    const perGroup = Math.min(g.N, Math.max(1, Math.floor(WEIGHT_GRADIENT_COLS_BYTES / imageCols)));
    const cols = this.colsScratch.get(perGroup * imageCols);
    const panels = Math.ceil(g.K / PANEL);
    const panelsPerChunk = Math.ceil(panels / WEIGHT_GRADIENT_CHUNKS);
    const panelChunks = Math.ceil(panels / panelsPerChunk);
    const rowTiles = Math.ceil(g.Og / TILE_ROWS);
    // rows are split only when there are too few panel chunks to share: splitting rows makes
    // every chunk read all of B_n again (conv2's dW measured 17% slower on two threads)
    const rowSplit = panelChunks >= WEIGHT_GRADIENT_CHUNKS / 2 ? 1 : Math.min(rowTiles, Math.ceil(WEIGHT_GRADIENT_CHUNKS / panelChunks));
    const rowsPerChunk = Math.ceil(rowTiles / rowSplit) * TILE_ROWS;
    const rowChunks = Math.ceil(g.Og / rowsPerChunk);
    const stride = cacheLines(panels * g.pixels * PANEL * 4);
    const scratch = this.threadScratch.get(stride * this.maxThreads);
    const params: number[] = [];
    params[GemmSumParam.M] = g.Og;
    params[GemmSumParam.N] = g.K;
    params[GemmSumParam.K] = g.pixels;
    params[GemmSumParam.lda] = g.pixels;
    params[GemmSumParam.sA] = g.O * g.pixels * 4;
    params[GemmSumParam.sAg] = g.Og * g.pixels * 4;
    params[GemmSumParam.B] = cols;
    params[GemmSumParam.ldb] = g.Ktot;
    params[GemmSumParam.sB] = imageCols;
    params[GemmSumParam.sBg] = g.K * 4;
    params[GemmSumParam.C] = dw;
    params[GemmSumParam.ldc] = g.K;
    params[GemmSumParam.sCg] = g.Og * g.K * 4;
    params[GemmSumParam.direct] = g.Og <= DIRECT_B_MAX_ROWS ? 1 : 0;
    params[GemmSumParam.mc] = rowBlockFor(g.pixels);
    params[GemmSumParam.scratch] = scratch;
    params[GemmSumParam.scratchStride] = stride;
    params[GemmSumParam.panelsPerChunk] = panelsPerChunk;
    params[GemmSumParam.panelChunks] = panelChunks;
    params[GemmSumParam.rowsPerChunk] = rowsPerChunk;
    params[GemmSumParam.rowChunks] = rowChunks;
    const imageBytes = g.C * g.H * g.W * 4;
    for (let n0 = 0; n0 < g.N; n0 += perGroup) {
      const count = Math.min(perGroup, g.N - n0);
      this.im2col(x + n0 * imageBytes, [count, g.C, g.H, g.W], [g.kh, g.kw], p, cols);
      params[GemmSumParam.A] = dy + n0 * g.O * g.pixels * 4;
      params[GemmSumParam.batch] = count;
      // the first images overwrite dw, later ones add to it
      params[GemmSumParam.beta0] = n0 === 0 ? 0 : 1;
      this.runner.run(Kind.gemmSum, g.groups * rowChunks * panelChunks, params);
    }
  }

  /**
   * Max pooling of NCHW f32 `x` into `y` ([N, C, OH, OW]) or, with `dx`, its gradient: dy at
   * `y` is routed to each window's first maximum (NaN wins; padding never does) and windows
   * that overlap add. Threads split the (n, c) planes.
   */
  maxPool2d(x: number, xShape: Shape4, y: number, yShape: Shape4, p: PoolGeometry, dx?: number): void {
    const op = dx === undefined ? "maxPool2d" : "maxPool2dBackward";
    this.checkLive(op);
    const [N, C, H, W] = xShape;
    const [, , OH, OW] = yShape;
    const shapes = () => `(input [${xShape.join(",")}], output [${yShape.join(",")}])`;
    this.checkSpan(op, "x", x, N * C * H * W, shapes);
    this.checkSpan(op, dx === undefined ? "out" : "dy", y, N * C * OH * OW, shapes);
    if (dx !== undefined) this.checkSpan(op, "dx", dx, N * C * H * W, shapes);
    const planes = N * C;
    // an empty input still has windows when padded: the forward pass writes -inf there
    if (planes === 0 || OH * OW === 0 || (dx !== undefined && H * W === 0)) return;
    const [kh, kw] = p.kernel;
    const [sh, sw] = p.stride;
    const [ph, pw] = p.padding;
    const fast = kh === 2 && kw === 2 && sh === 2 && sw === 2 && ph === 0 && pw === 0 && H === 2 * OH && W === 2 * OW && OW % 4 === 0;
    const params: number[] = [];
    params[PoolParam.x] = x;
    params[PoolParam.H] = H;
    params[PoolParam.W] = W;
    params[PoolParam.y] = y;
    params[PoolParam.OH] = OH;
    params[PoolParam.OW] = OW;
    params[PoolParam.kh] = kh;
    params[PoolParam.kw] = kw;
    params[PoolParam.sh] = sh;
    params[PoolParam.sw] = sw;
    params[PoolParam.ph] = ph;
    params[PoolParam.pw] = pw;
    params[PoolParam.dx] = dx ?? 0;
    params[PoolParam.planes] = planes;
    // a window cell costs about what 8 GEMM flops do
    const work = planes * OH * OW * kh * kw * 8;
    const chunks = this.runner.threads === 1 || work < this.parallelMinFlops ? 1 : Math.min(planes, POOL_CHUNKS);
    params[PoolParam.planesPerChunk] = Math.ceil(planes / chunks);
    params[PoolParam.gradient] = dx === undefined ? 0 : 1;
    params[PoolParam.fast] = fast ? 1 : 0;
    this.runner.run(Kind.pool, Math.ceil(planes / params[PoolParam.planesPerChunk]!), params);
  }

  /** `out[i] = op(x[i])` over n contiguous floats (threads split long runs). */
  unary(op: WasmUnaryOp, n: number, x: number, out: number): void {
    this.checkLive(op);
    if (!WASM_UNARY.includes(op)) throw new RangeError(`unary: no wasm kernel for ${String(op)} (expected one of ${WASM_UNARY.join(", ")})`);
    const shapes = () => `(n=${n})`;
    this.checkSpan(op, "x", x, n, shapes);
    this.checkSpan(op, "out", out, n, shapes);
    if (n === 0) return;
    if (!this.splitsElementwise(n, TRANSCENDENTAL.has(op) ? 40 : 4)) {
      this.exports[`unary_${op}`](n, x, 1, out);
      return;
    }
    this.runElementwise(Kind.unary, WASM_UNARY.indexOf(op), n, x, 1, 0, 0, out);
  }

  /**
   * `out[i] = a[i·sa] op b[i·sb]` over n floats, where a stride of 0 repeats one element
   * (a broadcast scalar) and 1 walks a contiguous run.
   */
  binary(op: WasmBinaryOp, n: number, a: number, sa: 0 | 1, b: number, sb: 0 | 1, out: number): void {
    this.checkLive(op);
    if (!WASM_BINARY.includes(op)) throw new RangeError(`binary: no wasm kernel for ${String(op)} (expected one of ${WASM_BINARY.join(", ")})`);
    if ((sa !== 0 && sa !== 1) || (sb !== 0 && sb !== 1)) throw new RangeError(`${op}: strides must be 0 or 1, got ${String(sa)} and ${String(sb)}`);
    const shapes = () => `(n=${n}, strides ${sa} and ${sb})`;
    this.checkSpan(op, "a", a, sa === 0 ? 1 : n, shapes);
    this.checkSpan(op, "b", b, sb === 0 ? 1 : n, shapes);
    this.checkSpan(op, "out", out, n, shapes);
    if (n === 0) return;
    if (!this.splitsElementwise(n, 4)) {
      this.exports[`binary_${op}`](n, a, sa, b, sb, out);
      return;
    }
    this.runElementwise(Kind.binary, WASM_BINARY.indexOf(op), n, a, sa, b, sb, out);
  }

  /** `out[r] = Σ_i x[r·n + i]` for `rows` contiguous rows of n floats (f64 across blocks). */
  sumRows(rows: number, n: number, x: number, out: number): void {
    this.checkLive("sum");
    const shapes = () => `(rows=${rows}, n=${n})`;
    this.checkSpan("sum", "x", x, rows * n, shapes);
    this.checkSpan("sum", "out", out, rows, shapes);
    this.exports.sum_rows(rows, n, x, out);
  }

  /**
   * Whether a run of n elements is long enough to share between threads; an element costs
   * about what `flops` GEMM flops do (4 for a load, an op and a store; ~40 for exp or tanh).
   */
  private splitsElementwise(n: number, flops: number): boolean {
    return this.runner.threads > 1 && n * flops >= this.parallelMinFlops && n >= 8;
  }

  private runElementwise(kind: number, op: number, n: number, a: number, sa: number, b: number, sb: number, out: number): void {
    // chunks of whole vectors, a function of n alone
    const perChunk = Math.max(4, Math.ceil(n / ELEMENTWISE_CHUNKS / 4) * 4);
    const params: number[] = [];
    params[ElementwiseParam.op] = op;
    params[ElementwiseParam.n] = n;
    params[ElementwiseParam.a] = a;
    params[ElementwiseParam.sa] = sa;
    params[ElementwiseParam.b] = b;
    params[ElementwiseParam.sb] = sb;
    params[ElementwiseParam.out] = out;
    params[ElementwiseParam.perChunk] = perChunk;
    this.runner.run(kind, Math.ceil(n / perChunk), params);
  }

  /** Whether at most sparseMaxDensity of the n floats at dy are nonzero. */
  private isSparse(dy: number, n: number): boolean {
    if (this.sparseMaxDensity <= 0 || n === 0) return false;
    return this.sparseMaxDensity >= 1 || this.exports.count_nonzero(n, dy) <= this.sparseMaxDensity * n;
  }

  /**
   * The weight gradient over dy's nonzeros (see conv-sparse.ts). Chunks are fixed ranges of
   * images (a function of N alone), each summed into its own partial dW, which are then added
   * in chunk order: the same sums in the same order for any number of threads.
   */
  private sparseWeightGradient(g: ConvPlan, x: number, dy: number, dw: number): void {
    this.sparseGradients++;
    const weights = g.O * g.K;
    const partialStride = cacheLines(weights * 4);
    const maxChunks = Math.min(SPARSE_WEIGHT_CHUNKS, Math.max(2, Math.floor(SPARSE_PARTIALS_BYTES / partialStride)));
    const perChunk = Math.max(SPARSE_WEIGHT_MIN_IMAGES, Math.ceil(g.N / maxChunks));
    const chunks = Math.ceil(g.N / perChunk);
    const entriesOffset = cacheLines((g.O + 1) * 4);
    const colsOffset = entriesOffset + cacheLines(g.O * g.pixels * SPARSE_ENTRY_BYTES);
    const stride = cacheLines(colsOffset + g.pixels * g.K * 4);
    const partials = chunks === 1 ? dw : this.colsScratch.get(chunks * partialStride);
    const params: number[] = [x, ...g.geometry];
    params[SparseWeightParam.dy] = dy;
    params[SparseWeightParam.partials] = partials;
    params[SparseWeightParam.partialStride] = partialStride;
    params[SparseWeightParam.O] = g.O;
    params[SparseWeightParam.K] = g.K;
    params[SparseWeightParam.images] = g.N;
    params[SparseWeightParam.imagesPerChunk] = perChunk;
    params[SparseWeightParam.scratch] = this.threadScratch.get(stride * this.maxThreads);
    params[SparseWeightParam.scratchStride] = stride;
    params[SparseWeightParam.entriesOffset] = entriesOffset;
    params[SparseWeightParam.colsOffset] = colsOffset;
    this.runner.run(Kind.convWeightSparse, chunks, params);
    if (chunks === 1) return;
    this.exports.binary_add(weights, partials, 1, partials + partialStride, 1, dw);
    for (let c = 2; c < chunks; c++) this.exports.binary_add(weights, dw, 1, partials + c * partialStride, 1, dw);
  }

  /** The input gradient over dy's nonzeros (see conv-sparse.ts); threads split the images. */
  private sparseInputGradient(g: ConvPlan, dy: number, w: number, dx: number): void {
    this.sparseGradients++;
    const entriesOffset = cacheLines((g.pixels + 1) * 4);
    const dcolsOffset = entriesOffset + cacheLines(g.O * g.pixels * SPARSE_ENTRY_BYTES);
    const stride = cacheLines(dcolsOffset + g.pixels * g.K * 4);
    const perChunk = imagesPerChunk(g.N);
    const params: number[] = [dx, ...g.geometry];
    params[SparseInputParam.Wt] = w;
    params[SparseInputParam.dy] = dy;
    params[SparseInputParam.O] = g.O;
    params[SparseInputParam.K] = g.K;
    params[SparseInputParam.images] = g.N;
    params[SparseInputParam.imagesPerChunk] = perChunk;
    params[SparseInputParam.scratch] = this.threadScratch.get(stride * this.maxThreads);
    params[SparseInputParam.scratchStride] = stride;
    params[SparseInputParam.entriesOffset] = entriesOffset;
    params[SparseInputParam.dcolsOffset] = dcolsOffset;
    this.runner.run(Kind.convInputSparse, Math.ceil(g.N / perChunk), params);
  }

  /** The weight gradient without im2col (see conv-weight-direct.ts); threads split the filters. */
  private directWeightGradient(g: ConvPlan, x: number, dy: number, dw: number): void {
    const perChunk = Math.ceil(g.O / Math.min(g.O, DIRECT_WEIGHT_CHUNKS));
    const stride = cacheLines(perChunk * g.K * 16);
    const params: number[] = [];
    params[DirectWeightParam.x] = x;
    params[DirectWeightParam.dy] = dy;
    params[DirectWeightParam.dw] = dw;
    params[DirectWeightParam.N] = g.N;
    params[DirectWeightParam.C] = g.C;
    params[DirectWeightParam.H] = g.H;
    params[DirectWeightParam.W] = g.W;
    params[DirectWeightParam.O] = g.O;
    params[DirectWeightParam.kh] = g.kh;
    params[DirectWeightParam.kw] = g.kw;
    params[DirectWeightParam.OH] = g.OH;
    params[DirectWeightParam.OW] = g.OW;
    params[DirectWeightParam.scratch] = this.threadScratch.get(stride * this.maxThreads);
    params[DirectWeightParam.scratchStride] = stride;
    params[DirectWeightParam.channelsPerChunk] = perChunk;
    this.runner.run(Kind.convWeightDirect, Math.ceil(g.O / perChunk), params);
  }

  /** Runs a convolution job (forward or input gradient) over all images. */
  private runConv(kind: number, g: ConvPlan, X: number, Wt: number, Y: number, stride: number, packOffset: number, mc: number, packDirect = false): void {
    const perChunk = imagesPerChunk(g.N);
    const params: number[] = [X, ...g.geometry];
    params[ConvParam.Wt] = Wt;
    params[ConvParam.Y] = Y;
    params[ConvParam.groups] = g.groups;
    params[ConvParam.Og] = g.Og;
    params[ConvParam.K] = g.K;
    params[ConvParam.scratch] = this.threadScratch.get(stride * this.maxThreads);
    params[ConvParam.scratchStride] = stride;
    params[ConvParam.packOffset] = packOffset;
    params[ConvParam.mc] = mc;
    params[ConvParam.images] = g.N;
    params[ConvParam.imagesPerChunk] = perChunk;
    params[ConvParam.packDirect] = packDirect ? 1 : 0;
    this.runner.run(kind, Math.ceil(g.N / perChunk), params);
  }

  /**
   * Stops the worker and frees this instance's scratch memory; the memory and arena stay
   * usable. Resolves when the worker has exited (it never keeps the process alive meanwhile).
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.runner.dispose();
    for (const s of [this.packScratch, this.threadScratch, this.colsScratch]) s.release();
    this.arena.free(this.job);
  }

  /** `await using kernels = await createWasmKernels()` disposes at scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  private checkLive(op: string): void {
    if (this.disposed) throw new Error(`${op}: the kernels were disposed`);
  }

  /** A rows×cols matrix with row stride ld at ptr must lie inside the memory. */
  private checkMatrix(op: string, name: string, ptr: number, rows: number, cols: number, ld: number, shapes: () => string): void {
    // an empty matrix is never read, so its leading dimension does not matter
    const empty = rows === 0 || cols === 0;
    if (!Number.isInteger(ld) || ld < (empty ? 0 : cols)) {
      throw new RangeError(`${op}: leading dimension of ${name} is ${ld}, expected an integer >= ${cols} ${shapes()}`);
    }
    this.checkSpan(op, name, ptr, empty ? 0 : (rows - 1) * ld + cols, shapes);
  }

  /** `floats` floats at byte offset ptr must lie inside the memory. */
  private checkSpan(op: string, name: string, ptr: number, floats: number, shapes: () => string): void {
    if (!Number.isInteger(ptr) || ptr < 0 || ptr % 4 !== 0) {
      throw new RangeError(`${op}: ${name} = ${ptr} is not a 4-byte-aligned offset ${shapes()}`);
    }
    const end = ptr + floats * 4;
    const size = this.memory.buffer.byteLength;
    if (end > size) {
      throw new RangeError(`${op}: ${name} spans bytes [${ptr}, ${end}) beyond the memory's ${size} ${shapes()}`);
    }
  }
}
