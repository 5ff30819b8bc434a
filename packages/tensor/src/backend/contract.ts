/**
 * The backend contract: everything a backend must (and may) implement.
 *
 * A backend owns memory (buffers) and runs a short list of primitives over it. The core
 * (`@tessera/tensor`) does everything else: shapes, broadcasting, views, dtype promotion,
 * validation, memory bookkeeping, and the heavy ops a backend leaves out, which it composes
 * from these primitives. See docs/ARCHITECTURE.md.
 */
import type { DType, TypedArray } from "../dtype.js";

/** A block of device memory holding `size` elements of `dtype`. Backends extend it. */
export interface BackendBuffer {
  /** Number of elements. */
  readonly size: number;
  /** Element type. */
  readonly dtype: DType;
}

/**
 * A strided window onto a buffer: element `[i0, i1, ...]` lives at
 * `offset + i0*strides[0] + i1*strides[1] + ...` (in elements). Strides may be 0 (broadcast).
 */
export interface StridedView {
  /** The buffer the view reads. */
  readonly buffer: BackendBuffer;
  /** The view's dimension sizes. */
  readonly shape: readonly number[];
  /** Elements to step in the buffer per index of each dimension (0 for a broadcast one). */
  readonly strides: readonly number[];
  /** Buffer index of the first element, in elements. */
  readonly offset: number;
}

/** Elementwise ops of one operand that every backend implements. */
export type UnaryOp = "neg" | "abs" | "sign" | "exp" | "log" | "sqrt" | "tanh" | "sigmoid" | "relu" | "floor" | "ceil" | "sin" | "cos" | "logicalNot";

/** Elementwise ops of two operands that every backend implements. */
export type BinaryOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "pow"
  | "maximum"
  | "minimum"
  | "equal"
  | "notEqual"
  | "less"
  | "lessEqual"
  | "greater"
  | "greaterEqual"
  | "logicalAnd"
  | "logicalOr";

/** Reductions of the last axis that every backend implements. */
export type ReduceOp = "sum" | "prod" | "max" | "min" | "argmax" | "argmin";

/** Binary ops whose result is `bool` whatever the operand dtype. */
export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set<BinaryOp>([
  "equal",
  "notEqual",
  "less",
  "lessEqual",
  "greater",
  "greaterEqual",
  "logicalAnd",
  "logicalOr",
]);

/** Geometry of a 2-D convolution (NCHW input, [out, in/groups, kh, kw] weight). */
export interface Conv2dParams {
  /** Step between windows, [height, width]. */
  readonly stride: readonly [number, number];
  /** Zeros added on each side, [height, width]. */
  readonly padding: readonly [number, number];
  /** Spacing between kernel taps, [height, width]. */
  readonly dilation: readonly [number, number];
  /** Channel groups: each output channel sees `C / groups` input channels. */
  readonly groups: number;
}

/**
 * Geometry of a 2-D pooling window. Windows start at `-padding + i*stride`; with `ceilMode` a
 * last partial window is kept when it starts inside the input or left padding (Theano's
 * `ignore_border=False`). Max pooling ignores padding cells; average pooling divides by the
 * number of input cells a window covers.
 */
export interface Pool2dParams {
  /** Window size, [height, width]. */
  readonly kernel: readonly [number, number];
  /** Step between windows, [height, width]. */
  readonly stride: readonly [number, number];
  /** Padding on each side, [height, width] (padding cells never win a max and are not counted in a mean). */
  readonly padding: readonly [number, number];
  /** Whether a last partial window is kept (the output size rounds up). */
  readonly ceilMode: boolean;
}

/** Shapes of the contiguous operands handed to a heavy kernel. */
export type Shape4 = readonly [number, number, number, number];

/**
 * Optional fast kernels. The core validates every shape and allocates `out` (contiguous) before
 * the call. Operands are contiguous buffers with their shapes, except for `matmul`, which gets
 * strided 3-D views (so transposed and broadcast operands need no copy), and `gather`, which
 * gets `x` as a contiguous [outer, n, inner] buffer. When a backend leaves one out, the core
 * computes it from primitives (see `src/fallbacks/`).
 */
export interface HeavyKernels {
  /** out[b] = a[b] @ b[b]; a is [B,M,K], b is [B,K,N] (any strides, batch stride may be 0), out is contiguous [B,M,N]. */
  matmul(a: StridedView, b: StridedView, out: BackendBuffer): void;
  /** Cross-correlation, as PyTorch computes it. x: [N,C,H,W], w: [O,C/groups,KH,KW], out: [N,O,OH,OW]. */
  conv2d(x: BackendBuffer, xShape: Shape4, w: BackendBuffer, wShape: Shape4, out: BackendBuffer, outShape: Shape4, p: Conv2dParams): void;
  /** Gradient of conv2d with respect to its input: dy [N,O,OH,OW] -> out [N,C,H,W]. */
  conv2dBackwardInput(dy: BackendBuffer, dyShape: Shape4, w: BackendBuffer, wShape: Shape4, out: BackendBuffer, xShape: Shape4, p: Conv2dParams): void;
  /** Gradient of conv2d with respect to its weight: x [N,C,H,W], dy [N,O,OH,OW] -> out [O,C/groups,KH,KW]. */
  conv2dBackwardWeight(x: BackendBuffer, xShape: Shape4, dy: BackendBuffer, dyShape: Shape4, out: BackendBuffer, wShape: Shape4, p: Conv2dParams): void;
  /** Max over each window (padding never wins). x: [N,C,H,W] -> out [N,C,OH,OW]. */
  maxPool2d(x: BackendBuffer, xShape: Shape4, out: BackendBuffer, outShape: Shape4, p: Pool2dParams): void;
  /** Routes dy to the first maximum (row-major within the window) of each window; overlapping windows add. */
  maxPool2dBackward(x: BackendBuffer, xShape: Shape4, dy: BackendBuffer, dyShape: Shape4, out: BackendBuffer, p: Pool2dParams): void;
  /** Mean over the input cells each window covers. */
  avgPool2d(x: BackendBuffer, xShape: Shape4, out: BackendBuffer, outShape: Shape4, p: Pool2dParams): void;
  /** Gradient of avgPool2d: spreads each dy cell evenly over the input cells its window covers; overlapping windows add. */
  avgPool2dBackward(dy: BackendBuffer, dyShape: Shape4, out: BackendBuffer, xShape: Shape4, p: Pool2dParams): void;
  /**
   * Index-select along the middle axis: x [outer,n,inner], indices int32 [m] -> out [outer,m,inner].
   * The core has checked the indices when it could see them on the host (see `gather`); it
   * cannot for indices computed on a device without `readSync`, so an out-of-range index must
   * select zeros (as the fallback does), never memory outside `x`.
   */
  gather(x: BackendBuffer, outer: number, n: number, inner: number, indices: BackendBuffer, m: number, out: BackendBuffer): void;
}

/** Name of an optional kernel. */
export type HeavyKernelName = keyof HeavyKernels;

/** Position of the output buffer among each heavy kernel's arguments (the others are read). */
export const KERNEL_OUTPUT_ARG: { readonly [K in HeavyKernelName]: number } = {
  matmul: 2,
  conv2d: 4,
  conv2dBackwardInput: 4,
  conv2dBackwardWeight: 4,
  maxPool2d: 2,
  maxPool2dBackward: 4,
  avgPool2d: 2,
  avgPool2dBackward: 2,
  gather: 6,
};

/**
 * One backend call of a recorded program (see `capture` in the core), generic over how it names
 * buffers (`B`), strided views (`V`) and heavy kernels' arguments (`A`): a backend gets real
 * buffers and views (`ProgramCall`), the core's recording gets ids.
 */
export type ProgramCallOf<B, V, A> =
  | { readonly op: "fill"; readonly out: B; readonly value: number }
  | { readonly op: "copy"; readonly src: V; readonly dst: V }
  | { readonly op: "unary"; readonly fn: UnaryOp; readonly x: V; readonly out: B }
  | { readonly op: "binary"; readonly fn: BinaryOp; readonly a: V; readonly b: V; readonly out: B }
  | { readonly op: "where"; readonly cond: V; readonly a: V; readonly b: V; readonly out: B }
  | { readonly op: "reduce"; readonly fn: ReduceOp; readonly x: B; readonly outer: number; readonly inner: number; readonly out: B }
  | { readonly op: "kernel"; readonly name: HeavyKernelName; readonly args: readonly A[] };

/** One backend call of a recorded program: the primitive or kernel and its arguments, as the backend received them. */
export type ProgramCall = ProgramCallOf<BackendBuffer, StridedView, unknown>;

/**
 * A recorded program handed to `Backend.compile`. Its calls write only the buffers they list as
 * outputs, in order. `dynamic` buffers are replaced at every run (the program's inputs, the
 * state it updates in place at the end, its results); every other buffer belongs to the program
 * and keeps its identity from run to run. `constants` hold host values written once before the
 * first run (a learning rate, an index table): no call writes them.
 */
export interface BackendProgram {
  /** The calls, in the order they ran when recorded. */
  readonly calls: readonly ProgramCall[];
  /** The buffers replaced at every run, in the order `CompiledProgram.run` receives them. */
  readonly dynamic: readonly BackendBuffer[];
  /** Host values to write into their buffers once, before the first run. */
  readonly constants: ReadonlyMap<BackendBuffer, TypedArray>;
}

/** A program prepared by `Backend.compile`. */
export interface CompiledProgram {
  /** Queues one run, with `dynamic` in place of the buffers given at compile time (same order, sizes and dtypes). */
  run(dynamic: readonly BackendBuffer[]): void;
  /** Releases what the backend made for the program (the program's own buffers stay the caller's). */
  dispose(): void;
}

/** What a backend reports about its own memory. */
export interface BackendMemory {
  /** Buffers currently allocated for tensors. */
  buffers: number;
  /** Bytes in those buffers. */
  bytes: number;
  /** Bytes held in a reuse pool, not in use (0 when the backend does not pool). */
  pooledBytes?: number;
  /** Buffers held in that pool. */
  pooledBuffers?: number;
}

/**
 * The contract. Required: memory (alloc/write/read/free/fill) and five primitives
 * (copy, unary, binary, where, reduce). Optional: `readSync`, `kernels`, `gaps`, `memory`,
 * `sync`, `dispose`, `compile`.
 *
 * Dtypes the core guarantees to a backend:
 * - `unary`: transcendental ops (exp, log, sqrt, tanh, sigmoid, sin, cos) get float32 in and out;
 *   neg/abs/sign/relu/floor/ceil keep the input dtype; `logicalNot` is bool -> bool.
 * - `binary`: both operands have the same dtype; `out` has that dtype, or bool for comparisons
 *   and logical ops. `div` and `pow` only see float32. int32 arithmetic wraps like C int32.
 * - `where`: cond is bool; a, b and out share one dtype.
 * - `reduce`: x is never bool; sum/prod/max/min keep the dtype; argmax/argmin write int32 and
 *   pick the first extreme. A reduction over zero elements writes 0 (sum), 1 (prod), -inf/+inf
 *   (max/min) and is never asked for argmax/argmin.
 * - `copy`: converts to `dst`'s dtype (float -> int truncates toward zero, anything -> bool is `!= 0`).
 */
export interface Backend {
  /** Registry name, for example `cpu` or `webgpu`. */
  readonly name: string;

  /** Allocates a buffer of `size` elements (size may be 0). Contents are unspecified. */
  alloc(size: number, dtype: DType): BackendBuffer;
  /** Replaces the whole contents of `buffer` with `data` (same length and dtype). */
  write(buffer: BackendBuffer, data: TypedArray): void;
  /** Reads the whole buffer back, once all work queued on it is done, into a new array the caller owns. */
  read(buffer: BackendBuffer): Promise<TypedArray>;
  /** Synchronous read, for backends whose memory the host can see. */
  readSync?(buffer: BackendBuffer): TypedArray;
  /** Releases a buffer. Called exactly once per buffer, when no tensor uses it any more. */
  free(buffer: BackendBuffer): void;
  /** Sets every element to `value`. */
  fill(buffer: BackendBuffer, value: number): void;

  /** dst[i] = src[i] for every index of their (equal) shapes, converting to dst's dtype. */
  copy(src: StridedView, dst: StridedView): void;
  /** out = op(x), out contiguous with x's shape. */
  unary(op: UnaryOp, x: StridedView, out: BackendBuffer): void;
  /** out = a op b; a and b already have out's shape (broadcast dims have stride 0). */
  binary(op: BinaryOp, a: StridedView, b: StridedView, out: BackendBuffer): void;
  /** out = cond ? a : b; all three views already have out's shape. */
  where(cond: StridedView, a: StridedView, b: StridedView, out: BackendBuffer): void;
  /** Reduces the last axis of contiguous x viewed as [outer, inner] into out [outer]. */
  reduce(op: ReduceOp, x: BackendBuffer, outer: number, inner: number, out: BackendBuffer): void;

  /** Fast paths for heavy ops; any subset. */
  readonly kernels?: Partial<HeavyKernels>;
  /** Heavy kernels this backend deliberately leaves to the core, with the reason (documentation). */
  readonly gaps?: Readonly<Record<string, string>>;
  /** Device memory as the backend sees it (pooled buffers included). */
  memory?(): BackendMemory;
  /** Waits until all queued work has finished. */
  sync?(): Promise<void>;
  /** Releases the device; the backend is unusable afterwards. */
  dispose?(): void | Promise<void>;
  /**
   * Prepares a recorded program to run again and again faster than call by call (fused, with
   * its dispatches prepared once). Without it the core replays the calls one by one.
   */
  compile?(program: BackendProgram): CompiledProgram;
}

/** Creates a backend; may be async (a GPU backend requests its device here). */
export type BackendFactory = () => Backend | Promise<Backend>;
