import type { Backend, StridedView } from "./backend/contract.js";
import { findBackend, listBackends } from "./backend/registry.js";
import type { DType, TypedArray } from "./dtype.js";
import { bytesPerElement } from "./dtype.js";
import { TesseraError, fmtBytes, fmtShape } from "./errors.js";
import { trackInScope } from "./memory/scope.js";
import { Storage, countTensor } from "./memory/storage.js";
import { contiguousStrides, isContiguous, sizeOf } from "./shape.js";
import * as ops from "./ops/index.js";
import type { NestedArray, SliceSpec, TensorLike } from "./ops/index.js";
import { type BackwardOptions, activeOp, autogradHooks } from "./ops/record.js";
import { captureHooks } from "./capture/hooks.js";

// Node 20 may lack the well-known symbol that `using` needs.
(Symbol as { dispose?: symbol }).dispose ??= Symbol.for("Symbol.dispose");

let nextId = 1;

/**
 * An n-dimensional array on a backend. A tensor is a view (shape, strides, offset) onto a
 * reference-counted buffer: reshape/permute/slice/expand share the buffer without copying.
 * Tensors are immutable; `dispose()` (or `using`, or `tidy`) returns their memory.
 */
export class Tensor {
  /** Unique id, for debugging and autograd bookkeeping. */
  readonly id = nextId++;
  /** Dimension sizes; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** Element type: `float32`, `int32` or `bool`. */
  readonly dtype: DType;
  /** Element strides of this view into its buffer. */
  readonly strides: readonly number[];
  /** Element offset of this view into its buffer. */
  readonly offset: number;
  /** Number of elements. */
  readonly size: number;
  /** Whether gradients flow to this tensor (set by users or by @tessera/autograd). */
  requiresGrad = false;
  /** Accumulated gradient, filled by `backward()` for leaf tensors that require it. */
  grad: Tensor | null = null;
  /** @internal The autograd node that produced this tensor, owned by @tessera/autograd. */
  gradNode: unknown = null;
  /** @internal */
  storage: Storage;
  private disposed = false;

  /** @internal Tensors are made by creation functions and ops, not with `new`. */
  constructor(storage: Storage, shape: readonly number[], dtype: DType, strides?: readonly number[], offset = 0) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    this.size = sizeOf(shape);
    countTensor(storage.backend, 1);
    trackInScope(this);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** The backend holding this tensor's memory. */
  get backend(): Backend {
    return this.storage.backend;
  }

  /** Whether {@link dispose} was called on this handle. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** True when the elements are laid out row-major from offset 0 of the buffer, without gaps. */
  get isContiguous(): boolean {
    return this.offset === 0 && isContiguous(this.shape, this.strides) && this.storage.buffer.size === this.size;
  }

  /** @internal The view handed to backend primitives. */
  view(): StridedView {
    this.assertLive("view");
    return { buffer: this.storage.buffer, shape: this.shape, strides: this.strides, offset: this.offset };
  }

  /** @internal Throws when the tensor was disposed. */
  assertLive(op: string): void {
    if (this.disposed) throw new TesseraError(op, `tensor #${this.id} ${fmtShape(this.shape)} ${this.dtype} was already disposed`);
  }

  /** Frees this handle; the buffer is freed when no other view uses it. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    countTensor(this.storage.backend, -1);
    autogradHooks.onDispose?.(this);
    this.grad?.dispose();
    this.grad = null;
    this.storage.release();
  }

  /** Disposes the tensor when a `using` declaration goes out of scope; same as {@link dispose}. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Replaces this tensor's contents with `value`'s (same shape and dtype) by sharing its buffer. */
  assign(value: Tensor): this {
    this.assertLive("assign");
    value.assertLive("assign");
    if (value.dtype !== this.dtype || value.shape.length !== this.shape.length || value.shape.some((d, i) => d !== this.shape[i])) {
      throw new TesseraError("assign", `value is ${fmtShape(value.shape)} ${value.dtype} but the tensor is ${fmtShape(this.shape)} ${this.dtype}`);
    }
    if (value.storage.backend !== this.storage.backend) {
      throw new TesseraError("assign", `value lives on '${value.backend.name}' but the tensor on '${this.backend.name}'`);
    }
    const src = value.isContiguous ? value : ops.contiguousCopy(value);
    src.storage.retain();
    const from = this.storage;
    this.storage.release();
    this.storage = src.storage;
    // A capture carries assigned tensors (parameters, optimizer state) from step to step.
    captureHooks.onAssign?.({ tensor: this, from: from.buffer, to: src.storage.buffer });
    (this as { strides: readonly number[] }).strides = Object.freeze(contiguousStrides(this.shape));
    (this as { offset: number }).offset = 0;
    if (src !== value) src.dispose();
    return this;
  }

  /** Reads the elements, row-major, as a new typed array. Works on every backend. */
  async data(): Promise<TypedArray> {
    this.assertLive("data");
    const c = this.isContiguous ? this : ops.contiguousCopy(this);
    try {
      const all = await c.backend.read(c.storage.buffer);
      return all.length === this.size ? all : all.slice(0, this.size);
    } finally {
      if (c !== this) c.dispose();
    }
  }

  /** Reads the elements synchronously; only on backends whose memory the host sees (the CPU). */
  dataSync(): TypedArray {
    this.assertLive("dataSync");
    const readSync = this.backend.readSync;
    if (!readSync) {
      throw new TesseraError("dataSync", `the '${this.backend.name}' backend cannot read synchronously; use \`await tensor.data()\``);
    }
    const c = this.isContiguous ? this : ops.contiguousCopy(this);
    try {
      const all = readSync.call(c.backend, c.storage.buffer);
      return all.length === this.size ? all : all.slice(0, this.size);
    } finally {
      if (c !== this) c.dispose();
    }
  }

  /**
   * A copy of this tensor on another backend (by registry name), e.g. `await t.to("webgpu")`.
   * The backend must have been initialised (`await setBackend(name)` once).
   */
  async to(name: string): Promise<Tensor> {
    this.assertLive("to");
    const target = findBackend(name);
    if (!target)
      throw new TesseraError(
        "to",
        `backend '${name}' is not initialised (registered: ${listBackends()
          .map((b) => b.name)
          .join(", ")}); call \`await setBackend("${name}")\` first`,
      );
    const values = await this.data();
    const out = emptyTensor(target, this.shape, this.dtype);
    writeHostData(out, values);
    return out;
  }

  /** Reads the elements as nested arrays (booleans as 0/1). */
  async array(): Promise<NestedArray> {
    return ops.nest(await this.data(), this.shape);
  }

  /** Synchronous `array()`, where the backend allows it. */
  arraySync(): NestedArray {
    return ops.nest(this.dataSync(), this.shape);
  }

  /** The single element of a one-element tensor, read synchronously. */
  item(): number {
    if (this.size !== 1) throw new TesseraError("item", `expected a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return this.dataSync()[0]!;
  }

  /**
   * Runs reverse-mode differentiation from this tensor (needs @tessera/autograd):
   * `backward()`, `backward(gradient)`, `backward({ retainGraph: true })` or
   * `backward(gradient, { retainGraph: true })`.
   */
  backward(gradient?: Tensor | BackwardOptions, options?: BackwardOptions): void {
    const run = autogradHooks.backward;
    if (!run) throw new TesseraError("backward", 'no autograd engine is loaded: `import "@tessera/autograd"` once in your program');
    if (gradient === undefined || gradient instanceof Tensor) run(this, gradient, options);
    else run(this, undefined, gradient);
  }

  /** A one-line summary: shape, dtype, backend, and whether it was disposed (never the elements). */
  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}, ${this.backend.name}${this.disposed ? ", disposed" : ""})`;
  }

  // ---- the op surface as methods (each returns a new tensor the caller owns) ----
  /** `this + other`, broadcasting; see {@link ops.add | add}. */
  add(other: TensorLike): Tensor {
    return ops.add(this, other);
  }
  /** `this - other`, broadcasting; see {@link ops.sub | sub}. */
  sub(other: TensorLike): Tensor {
    return ops.sub(this, other);
  }
  /** `this * other`, broadcasting; see {@link ops.mul | mul}. */
  mul(other: TensorLike): Tensor {
    return ops.mul(this, other);
  }
  /** `this / other`, broadcasting (true division, float32 result); see {@link ops.div | div}. */
  div(other: TensorLike): Tensor {
    return ops.div(this, other);
  }
  /** `this ** other`, broadcasting (float32 result); see {@link ops.pow | pow}. */
  pow(other: TensorLike): Tensor {
    return ops.pow(this, other);
  }
  /** Elementwise maximum of `this` and `other`, broadcasting (NaN wins); see {@link ops.maximum | maximum}. */
  maximum(other: TensorLike): Tensor {
    return ops.maximum(this, other);
  }
  /** Elementwise minimum of `this` and `other`, broadcasting (NaN wins); see {@link ops.minimum | minimum}. */
  minimum(other: TensorLike): Tensor {
    return ops.minimum(this, other);
  }
  /** `this == other` elementwise, broadcasting; a bool tensor. */
  equal(other: TensorLike): Tensor {
    return ops.equal(this, other);
  }
  /** `this != other` elementwise, broadcasting; a bool tensor. */
  notEqual(other: TensorLike): Tensor {
    return ops.notEqual(this, other);
  }
  /** `this < other` elementwise, broadcasting; a bool tensor. */
  less(other: TensorLike): Tensor {
    return ops.less(this, other);
  }
  /** `this <= other` elementwise, broadcasting; a bool tensor. */
  lessEqual(other: TensorLike): Tensor {
    return ops.lessEqual(this, other);
  }
  /** `this > other` elementwise, broadcasting; a bool tensor. */
  greater(other: TensorLike): Tensor {
    return ops.greater(this, other);
  }
  /** `this >= other` elementwise, broadcasting; a bool tensor. */
  greaterEqual(other: TensorLike): Tensor {
    return ops.greaterEqual(this, other);
  }
  /** Elementwise `-x`. */
  neg(): Tensor {
    return ops.neg(this);
  }
  /** Elementwise `|x|`. */
  abs(): Tensor {
    return ops.abs(this);
  }
  /** Elementwise `e^x` (float32 result). */
  exp(): Tensor {
    return ops.exp(this);
  }
  /** Elementwise natural logarithm (float32 result). */
  log(): Tensor {
    return ops.log(this);
  }
  /** Elementwise square root (float32 result). */
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  /** Elementwise `x * x`. */
  square(): Tensor {
    return ops.square(this);
  }
  /** Elementwise hyperbolic tangent (float32 result). */
  tanh(): Tensor {
    return ops.tanh(this);
  }
  /** Elementwise logistic function `1 / (1 + e^-x)` (float32 result). */
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  /** Elementwise `max(x, 0)`. */
  relu(): Tensor {
    return ops.relu(this);
  }
  /** Sum over `axes` (all by default), keeping them as size 1 when `keepdims`; see {@link ops.sum | sum}. */
  sum(axes?: number | number[], keepdims = false): Tensor {
    return ops.sum(this, axes, keepdims);
  }
  /** Arithmetic mean over `axes` (all by default), float32; see {@link ops.mean | mean}. */
  mean(axes?: number | number[], keepdims = false): Tensor {
    return ops.mean(this, axes, keepdims);
  }
  /** Maximum over `axes` (all by default); see {@link ops.max | max}. */
  max(axes?: number | number[], keepdims = false): Tensor {
    return ops.max(this, axes, keepdims);
  }
  /** Minimum over `axes` (all by default); see {@link ops.min | min}. */
  min(axes?: number | number[], keepdims = false): Tensor {
    return ops.min(this, axes, keepdims);
  }
  /** Index of the first maximum along `axis` (of the flattened tensor when omitted), int32. */
  argmax(axis?: number, keepdims = false): Tensor {
    return ops.argmax(this, axis, keepdims);
  }
  /** Index of the first minimum along `axis` (of the flattened tensor when omitted), int32. */
  argmin(axis?: number, keepdims = false): Tensor {
    return ops.argmin(this, axis, keepdims);
  }
  /** Matrix product `this @ other` with NumPy semantics (1-D operands promoted, batch dims broadcast); see {@link ops.matmul | matmul}. */
  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  /** The same elements in another shape (one dim may be -1); a view when this tensor is contiguous. */
  reshape(shape: readonly number[]): Tensor {
    return ops.reshape(this, shape);
  }
  /** Merges axes `startAxis..endAxis` (all by default) into one. */
  flatten(startAxis = 0, endAxis = -1): Tensor {
    return ops.flatten(this, startAxis, endAxis);
  }
  /** Swaps two axes (the last two by default); always a view. */
  transpose(axis0?: number, axis1?: number): Tensor {
    return ops.transpose(this, axis0, axis1);
  }
  /** Reorders the axes: result axis i is axis `axes[i]` of this tensor; always a view. */
  permute(axes: readonly number[]): Tensor {
    return ops.permute(this, axes);
  }
  /** A range (with an optional step) per leading axis, the other axes whole; always a view; see {@link ops.slice | slice}. */
  slice(spec: readonly SliceSpec[]): Tensor {
    return ops.slice(this, spec);
  }
  /** Broadcasts to `shape` without copying (size-1 dims get stride 0; new leading dims allowed). */
  expand(shape: readonly number[]): Tensor {
    return ops.expand(this, shape);
  }
  /** Removes size-1 axes: all of them, or the given ones (which must have size 1). */
  squeeze(axes?: number | number[]): Tensor {
    return ops.squeeze(this, axes);
  }
  /** Inserts a size-1 axis at `axis` (negative counts from the end of the result). */
  unsqueeze(axis: number): Tensor {
    return ops.unsqueeze(this, axis);
  }
  /** Converts to `dtype` (float to int truncates toward zero; anything to bool is `!= 0`). */
  cast(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }
  /** A copy with its own buffer. */
  clone(): Tensor {
    return ops.clone(this);
  }
  /** This tensor laid out contiguously: a new handle on the same buffer when it already is, else a copy. */
  contiguous(): Tensor {
    return ops.contiguous(this);
  }
  /** `exp(x) / sum(exp(x))` along `axis` (the last by default), computed stably. */
  softmax(axis = -1): Tensor {
    return ops.softmax(this, axis);
  }
  /** `log(softmax(x))` along `axis` (the last by default), computed stably. */
  logSoftmax(axis = -1): Tensor {
    return ops.logSoftmax(this, axis);
  }
  /** The slices of this tensor at int32 `indices` along `axis`; see {@link ops.gather | gather}. */
  gather(indices: Tensor, axis = 0): Tensor {
    return ops.gather(this, indices, axis);
  }
}

/**
 * @internal Makes a fresh contiguous tensor on `backend` (contents unspecified). A backend that
 * cannot allocate it (too large for its memory or its limits) becomes a `TesseraError` naming the
 * op the user called (or `op`, for creation functions), the shape and the bytes asked for.
 */
export function emptyTensor(backend: Backend, shape: readonly number[], dtype: DType, op?: string): Tensor {
  const size = sizeOf(shape);
  let buffer: ReturnType<Backend["alloc"]>;
  try {
    if (!Number.isSafeInteger(size)) throw new RangeError(`${size} elements is more than any buffer can index`);
    buffer = backend.alloc(size, dtype);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new TesseraError(
      activeOp() ?? op ?? "alloc",
      `cannot allocate a ${fmtShape(shape)} ${dtype} tensor: ${fmtBytes(size * bytesPerElement(dtype))} on '${backend.name}' (${reason})`,
      { cause },
    );
  }
  return new Tensor(new Storage(backend, buffer), shape, dtype);
}

/**
 * @internal Writes host `values` (owned by the callee from now on) into the fresh tensor `t`,
 * keeping int32 values on the host where the backend cannot read synchronously (see
 * `Storage.hostValues`).
 */
export function writeHostData(t: Tensor, values: TypedArray): void {
  if (t.size === 0) return;
  t.backend.write(t.storage.buffer, values);
  if (t.dtype === "int32" && !t.backend.readSync) t.storage.hostValues = values;
}

/** @internal A new handle onto `t`'s buffer with another geometry (a view). */
export function viewTensor(t: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  t.assertLive("view");
  return new Tensor(t.storage.retain(), shape, t.dtype, strides, offset);
}

/**
 * A second handle onto exactly the same view of `t`'s buffer (the buffer lives until both are
 * disposed). Not recorded by autograd; libraries use it to hold on to tensors they do not own.
 */
export function shareTensor(t: Tensor): Tensor {
  return viewTensor(t, t.shape, t.strides, t.offset);
}
