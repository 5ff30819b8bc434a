/**
 * The WebGPU backend: buffers, the contract's primitives and the heavy kernels, all recorded into
 * batched command buffers (see encoder.ts) over pooled GPU memory (see buffer-pool.ts).
 */
import { type WebGPUBuffer as Buf, WebGPUBuffer, gpuBuffer, hostArray } from "./buffer.js";
import { BufferPool } from "./buffer-pool.js";
import { runProgramCall } from "@tessera/tensor";
import { CompiledDispatches, type RecordedDispatch } from "./compile/compiled-program.js";
import { type FusedCall, fuseElementwise } from "./compile/fusion.js";
import type {
  Backend,
  BackendBuffer,
  BackendMemory,
  BackendProgram,
  BinaryOp,
  CompiledProgram,
  DType,
  HeavyKernels,
  ReduceOp,
  StridedView,
  TypedArray,
  UnaryOp,
} from "./contract.js";
import { type AcquiredDevice, type AdapterSummary, type DeviceOptions, acquireDevice } from "./device.js";
import { HostCounters } from "./counters.js";
import { CommandRecorder, type StorageBinding } from "./encoder.js";
import { FailureState, WebGPUBackendError, WebGPUDeviceLostError, WebGPUExecutionError, WebGPULimitError, WebGPUOutOfMemoryError } from "./errors.js";
import { BufferUsage, MapMode } from "./gpu-constants.js";
import { binary, where } from "./kernels/binary.js";
import type { KernelContext } from "./kernels/context.js";
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from "./kernels/conv2d.js";
import { copy, fill, isBroadcastScalar, wordOf } from "./kernels/copy.js";
import { fused } from "./kernels/fused.js";
import { gather } from "./kernels/gather.js";
import { GPU_SPLITS, SOFTWARE_SPLITS } from "./kernels/gemm.js";
import { matmul } from "./kernels/matmul.js";
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward } from "./kernels/pool2d.js";
import { reduce } from "./kernels/reduce.js";
import { unary } from "./kernels/unary.js";
import { ParamsRing } from "./params-ring.js";
import { type CachedPipeline, PipelineCache } from "./pipelines.js";
import { canIdleWait, idleWait } from "./wait.js";

/** Options of `createWebGPUBackend`. */
export interface WebGPUBackendOptions extends DeviceOptions {
  /** Dispatches recorded before a batch is submitted without being asked (default 128). */
  maxDispatchesPerBatch?: number;
  /** Bytes of freed buffers kept for reuse; the rest is destroyed at the next submit (default 1 GiB). */
  maxPooledBytes?: number;
  /**
   * In Node, wait for the GPU by sleeping in 1 ms slices instead of letting Dawn's bindings poll in
   * a busy loop, which takes a CPU core from software adapters (see wait.ts). Default: true on
   * software adapters (lavapipe, SwiftShader) and on devices passed in, false on GPUs.
   */
  idleWait?: boolean;
  /**
   * How kernels share out long reductions (weight gradients, matmuls with a small output):
   * `"gpu"` splits them across thousands of workgroups, as a GPU needs to hide memory latency;
   * `"software"` keeps to a few dozen, as suits an adapter that runs on the CPU's cores (splitting
   * there only adds traffic). Default: `TESSERA_WEBGPU_KERNEL_TUNING` in Node when set, else
   * `"software"` on software adapters and devices passed in, `"gpu"` otherwise.
   */
  kernelTuning?: "gpu" | "software";
}

/** Counters for diagnostics and tests; the host-work totals run from the backend's creation. */
export interface WebGPUStats {
  /** Command buffers submitted so far. */
  submits: number;
  /** Compute dispatches recorded so far. */
  dispatches: number;
  /** Bind groups created so far (cache misses). */
  bindGroupsCreated: number;
  /** Host-to-GPU buffer writes so far (the parameter block's upload at each submit included). */
  writes: number;
  /** Staging buffers created so far, for uploads and readbacks. */
  stagingBuffers: number;
  /** Times the host waited for the GPU so far (reads, syncs). */
  waits: number;
  /** Compute pipelines compiled so far. */
  pipelines: number;
  /** Dispatches recorded but not yet submitted. */
  pendingDispatches: number;
  /** Gradient kernels whose output was freed before anything used it, so they never ran. */
  elidedKernels: number;
  /** Gradient kernels recorded but waiting for their output to be used. */
  deferredKernels: number;
}

/**
 * A gradient kernel whose dispatches wait until something uses its output. Autograd computes the
 * gradient of every input of an op (conv2d's input gradient even for the network's input images)
 * and frees the ones nobody needs; such a kernel is dropped instead of run.
 */
interface Deferred {
  readonly out: GPUBuffer;
  /** GPU buffers the dispatches read (the output excluded). */
  readonly reads: Set<GPUBuffer>;
  readonly dispatches: Array<{ pipeline: CachedPipeline; params: Uint32Array; storage: readonly StorageBinding[]; groups: readonly [number, number, number] }>;
  /** Scratch buffers of the kernel, freed once it is recorded or dropped. */
  readonly temps: WebGPUBuffer[];
}

/** Bytes of readback staging buffers kept for reuse. */
const READ_POOL_BYTES = 64 << 20;

const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/** A Tessera backend running on a WebGPU device. */
export class WebGPUBackend implements Backend {
  /** Registry name. */
  readonly name = "webgpu";
  /** Heavy kernels left to the core: none. */
  readonly gaps: Readonly<Record<string, string>> = {};
  /** Every heavy kernel of the contract. */
  readonly kernels: Partial<HeavyKernels>;
  /** What the adapter reported (vendor, architecture, whether it is a software fallback). */
  readonly adapter: AdapterSummary;
  /** The device the backend runs on. */
  readonly device: GPUDevice;

  private readonly acquired: AcquiredDevice;
  private readonly failures = new FailureState();
  private readonly pool: BufferPool;
  private readonly readPool: BufferPool;
  private readonly pipelines: PipelineCache;
  private readonly recorder: CommandRecorder;
  private readonly ring: ParamsRing;
  private readonly ctx: KernelContext;
  private readonly counters = new HostCounters();
  /** While `compile` runs: where dispatches go instead of the command recorder, and the scratch buffers kernels ask for. */
  private compiling: { dispatches: RecordedDispatch[]; temps: WebGPUBuffer[] } | null = null;
  private readonly live = new Set<WebGPUBuffer>();
  /** Deferred gradient kernels, in call order (see `Deferred`). */
  private deferred: Deferred[] = [];
  /** Freed buffers a deferred kernel still reads: pooled once no deferred kernel reads them. */
  private readonly held = new Set<GPUBuffer>();
  private elided = 0;
  private liveBytes = 0;
  private disposed = false;
  private readonly maxPooledBytes: number;
  /** Whether waits for the GPU sleep in 1 ms slices (the `idleWait` option and its default). */
  readonly idleWait: boolean;
  /** How kernels share out long reductions (the `kernelTuning` option and its default). */
  readonly kernelTuning: "gpu" | "software";

  /** Use `createWebGPUBackend`, which acquires the device first. */
  constructor(acquired: AcquiredDevice, options: WebGPUBackendOptions = {}) {
    this.acquired = acquired;
    this.adapter = acquired.adapter;
    const device = acquired.device;
    this.device = device;
    this.maxPooledBytes = options.maxPooledBytes ?? 1 << 30;
    // Sleeping helps only where the "GPU" is the CPU itself; elsewhere it would add up to a
    // millisecond to every wait. A device passed in has an unknown adapter: keep sleeping.
    const software = !acquired.owned || acquired.adapter.isFallbackAdapter || acquired.adapter.architecture === "software";
    this.idleWait = (options.idleWait ?? software) && canIdleWait();
    const tuning = requestedKernelTuning(options) ?? (software ? "software" : "gpu");
    this.kernelTuning = tuning;
    device.lost.then(
      (info) => this.failures.record(this.disposed ? disposedError() : new WebGPUDeviceLostError(info.reason, info.message)),
      () => {},
    );
    if (acquired.owned) {
      // Errors outside our error scopes (e.g. a bind group the driver rejects) would otherwise only
      // reach the console; on a device we own they mean results cannot be trusted, so fail loudly.
      device.addEventListener("uncapturederror", (e) => {
        const err = (e as GPUUncapturedErrorEvent).error;
        e.preventDefault(); // reported to the caller instead of the console
        this.failures.record(
          // By name: Dawn's Node bindings do not put GPUOutOfMemoryError on globalThis.
          err?.constructor?.name === "GPUOutOfMemoryError"
            ? new WebGPUOutOfMemoryError("while recording work", err.message)
            : new WebGPUExecutionError("uncaptured", err?.message ?? String(err)),
        );
      });
    }
    const limits = device.limits;
    this.pool = new BufferPool((bytes) => this.createBuffer(bytes, STORAGE_USAGE, "tensor"), limits.maxBufferSize);
    this.readPool = new BufferPool((bytes) => {
      this.counters.stagingBuffers++;
      return this.createBuffer(bytes, BufferUsage.MAP_READ | BufferUsage.COPY_DST, "readback staging");
    }, limits.maxBufferSize);
    this.pipelines = new PipelineCache(device, (e) => this.failures.record(e));
    this.ring = new ParamsRing(device, 256 * 1024, Math.max(16, limits.minUniformBufferOffsetAlignment));
    this.recorder = new CommandRecorder(
      device,
      this.failures,
      this.ring,
      options.maxDispatchesPerBatch ?? 128,
      () => {
        // Trimming waits for a submit: destroying a buffer an unsubmitted command uses would void it.
        this.pool.trim(this.maxPooledBytes);
        this.readPool.trim(READ_POOL_BYTES);
      },
      this.counters,
    );
    this.ctx = {
      pipelines: this.pipelines,
      recorder: {
        dispatch: (pipeline, params, storage, groups) => {
          if (!this.compiling) this.recorder.dispatch(pipeline, params, storage, groups);
          else if (groups[0] > 0 && groups[1] > 0 && groups[2] > 0) this.compiling.dispatches.push({ pipeline, params, storage, groups });
        },
      },
      maxWorkgroupsPerDim: limits.maxComputeWorkgroupsPerDimension,
      splits: tuning === "gpu" ? GPU_SPLITS : SOFTWARE_SPLITS,
      temp: (size: number, dtype: DType) => {
        const t = this.alloc(size, dtype);
        this.compiling?.temps.push(t); // a compiled program keeps its scratch buffers
        return t;
      },
      releaseTemp: (b: Buf) => {
        if (!this.compiling) this.free(b);
      },
    };
    const k = (op: string, out: BackendBuffer) => {
      this.check();
      return gpuBuffer(out, op);
    };
    this.kernels = {
      matmul: (a, b, out) => {
        const o = k("matmul", out);
        this.settle([a.buffer, b.buffer], [o]);
        matmul(this.ctx, a, b, o);
      },
      conv2d: (x, xs, w, ws, out, os, p) => {
        const o = k("conv2d", out);
        this.settle([x, w], [o]);
        conv2d(this.ctx, x, xs, w, ws, o, os, p);
      },
      conv2dBackwardInput: (dy, dys, w, ws, out, xs, p) => {
        const o = k("conv2dBackwardInput", out);
        this.settle([dy, w], [o]);
        // A compiled program has dropped unused gradients already: it records them straight away.
        if (this.compiling) conv2dBackwardInput(this.ctx, dy, dys, w, ws, o, xs, p);
        else this.defer(o, (ctx) => conv2dBackwardInput(ctx, dy, dys, w, ws, o, xs, p));
      },
      conv2dBackwardWeight: (x, xs, dy, dys, out, ws, p) => {
        const o = k("conv2dBackwardWeight", out);
        this.settle([x, dy], [o]);
        if (this.compiling) conv2dBackwardWeight(this.ctx, x, xs, dy, dys, o, ws, p);
        else this.defer(o, (ctx) => conv2dBackwardWeight(ctx, x, xs, dy, dys, o, ws, p));
      },
      maxPool2d: (x, xs, out, os, p) => {
        const o = k("maxPool2d", out);
        this.settle([x], [o]);
        maxPool2d(this.ctx, x, xs, o, os, p);
      },
      maxPool2dBackward: (x, xs, dy, dys, out, p) => {
        const o = k("maxPool2dBackward", out);
        this.settle([x, dy], [o]);
        maxPool2dBackward(this.ctx, x, xs, dy, dys, o, p);
      },
      avgPool2d: (x, xs, out, os, p) => {
        const o = k("avgPool2d", out);
        this.settle([x], [o]);
        avgPool2d(this.ctx, x, xs, o, os, p);
      },
      avgPool2dBackward: (dy, dys, out, xs, p) => {
        const o = k("avgPool2dBackward", out);
        this.settle([dy], [o]);
        avgPool2dBackward(this.ctx, dy, dys, o, xs, p);
      },
      gather: (x, outer, n, inner, idx, m, out) => {
        const o = k("gather", out);
        this.settle([x, idx], [o]);
        gather(this.ctx, x, outer, n, inner, idx, m, o);
      },
    };
  }

  /** Creates a GPU buffer; allocation failures are reported through error scopes, asynchronously. */
  private createBuffer(bytes: number, usage: number, what: string): GPUBuffer {
    const device = this.device;
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    const buffer = device.createBuffer({ label: `tessera ${what}`, size: bytes, usage });
    const validation = device.popErrorScope();
    const oom = device.popErrorScope();
    Promise.all([validation, oom]).then(
      ([v, o]) => {
        if (o) this.failures.record(new WebGPUOutOfMemoryError(`allocating ${bytes} bytes for a ${what} buffer`, o.message));
        if (v) this.failures.record(new WebGPUExecutionError("validation", `creating a ${bytes}-byte ${what} buffer: ${v.message}`));
      },
      () => {},
    );
    return buffer;
  }

  /**
   * Records `run`'s dispatches only once something uses `out` (see `Deferred`); if `out` is freed
   * first, they are dropped. The caller has settled the kernel's operands already.
   */
  private defer(out: WebGPUBuffer, run: (ctx: KernelContext) => void): void {
    const d: Deferred = { out: out.gpu, reads: new Set(), dispatches: [], temps: [] };
    run({
      ...this.ctx,
      recorder: {
        dispatch: (pipeline, params, storage, groups) => {
          d.dispatches.push({ pipeline, params, storage, groups });
          for (const s of storage) if (s.buffer !== d.out) d.reads.add(s.buffer);
        },
      },
      releaseTemp: (b) => d.temps.push(b),
    });
    if (d.dispatches.length > 0) this.deferred.push(d);
    else this.resolve(d, false);
  }

  /**
   * Before an op reads `reads` and writes `writes`: uploads the host-side scalars it reads (see
   * `WebGPUBuffer.hostWord`), forgets those it overwrites, and records every deferred kernel whose
   * output it touches, or whose operands it overwrites, so that work stays in program order.
   */
  private settle(reads: readonly BackendBuffer[], writes: readonly BackendBuffer[]): void {
    for (const b of reads) if (b instanceof WebGPUBuffer && b.hostWord !== undefined) this.uploadHostWord(b);
    for (const b of writes) if (b instanceof WebGPUBuffer) b.hostWord = undefined;
    if (this.deferred.length === 0) return;
    const touched = (d: Deferred) =>
      reads.some((b) => b instanceof WebGPUBuffer && b.gpu === d.out) ||
      writes.some((b) => b instanceof WebGPUBuffer && (b.gpu === d.out || d.reads.has(b.gpu)));
    for (const d of this.deferred.filter(touched)) this.resolve(d, true);
  }

  /** The buffers of `views` an elementwise kernel binds: a host-side broadcast scalar becomes a kernel parameter instead. */
  private bound(...views: StridedView[]): BackendBuffer[] {
    const out: BackendBuffer[] = [];
    for (const v of views) if (!(v.buffer instanceof WebGPUBuffer && v.buffer.hostWord !== undefined && isBroadcastScalar(v))) out.push(v.buffer);
    return out;
  }

  /** Writes a host-side scalar to its GPU buffer, for a reader that binds the buffer. */
  private uploadHostWord(b: WebGPUBuffer): void {
    const word = b.hostWord!;
    b.hostWord = undefined;
    this.writeWords(b, Uint32Array.of(word));
  }

  /** Records every deferred kernel (before submitting, so explicit syncs and flushes run them). */
  private settleAll(): void {
    for (const d of [...this.deferred]) this.resolve(d, true);
  }

  /** Takes `d` off the deferred list, records its dispatches (or drops them), frees what it held. */
  private resolve(d: Deferred, record: boolean): void {
    this.deferred = this.deferred.filter((x) => x !== d);
    if (record) for (const x of d.dispatches) this.recorder.dispatch(x.pipeline, x.params, x.storage, x.groups);
    else if (d.dispatches.length > 0) this.elided++;
    for (const t of d.temps) this.free(t);
    for (const r of d.reads) {
      if (this.held.has(r) && !this.deferred.some((x) => x.reads.has(r))) {
        this.held.delete(r);
        this.pool.release(r);
      }
    }
  }

  /** Awaits GPU work, failing early on a recorded failure, sleeping rather than spinning in Node. */
  private wait<T>(p: Promise<T>): Promise<T> {
    this.counters.waits++;
    const raced = this.failures.race(p);
    return this.idleWait ? idleWait(raced) : raced;
  }

  /** Throws the first recorded GPU failure (lost device, out of memory) or a disposed-backend error. */
  private check(): void {
    if (this.disposed) throw disposedError();
    this.failures.throwIfFailed();
  }

  /** Allocates `size` elements of `dtype` (one 32-bit word each) from the pool. */
  alloc(size: number, dtype: DType): BackendBuffer & Buf {
    this.check();
    if (!Number.isInteger(size) || size < 0) throw new WebGPUBackendError(`alloc: size must be a non-negative integer, got ${size}`);
    const bytes = Math.max(1, size) * 4;
    const limits = this.device.limits;
    if (bytes > limits.maxStorageBufferBindingSize) {
      throw new WebGPULimitError(
        "maxStorageBufferBindingSize",
        `a ${dtype} tensor of ${size} elements needs ${bytes} bytes in one storage binding, more than this device's ${limits.maxStorageBufferBindingSize}`,
      );
    }
    const b = new WebGPUBuffer(size, dtype, this.pool.acquire(bytes));
    this.live.add(b);
    this.liveBytes += b.gpu.size;
    return b;
  }

  /** Returns the buffer to the pool; queued work that still reads it runs first (queue order). */
  free(buffer: BackendBuffer): void {
    if (!(buffer instanceof WebGPUBuffer) || !buffer.live || this.disposed) return;
    buffer.live = false;
    this.live.delete(buffer);
    this.liveBytes -= buffer.gpu.size;
    const unused = this.deferred.find((d) => d.out === buffer.gpu);
    if (unused) this.resolve(unused, false);
    this.releaseGpu(buffer.gpu);
  }

  /** Returns a GPU buffer to the pool; a deferred kernel still reading it keeps it out until it is resolved. */
  private releaseGpu(gpu: GPUBuffer): void {
    if (this.deferred.some((d) => d.reads.has(gpu))) this.held.add(gpu);
    else this.pool.release(gpu);
  }

  /** Replaces the contents of `buffer`; ordered after every op recorded before it. */
  write(buffer: BackendBuffer, data: TypedArray): void {
    this.check();
    const b = gpuBuffer(buffer, "write");
    if (data.length !== b.size) {
      throw new WebGPUBackendError(`write: got ${data.length} elements for a buffer of ${b.size}`);
    }
    if (b.size === 0) return;
    this.settle([], [b]);
    const words = toWords(b.dtype, data);
    // A scalar stays on the host until a kernel binds it; most take it as a parameter instead.
    if (b.size === 1) b.hostWord = new Uint32Array(words.buffer, words.byteOffset, 1)[0]!;
    else this.writeWords(b, words);
  }

  /**
   * Uploads `words` into `b`. Recorded, unsubmitted work may still read the old contents (a pooled
   * buffer freed earlier in the batch): then `b` moves to an idle pooled buffer of its size class
   * first (nothing but the old contents' readers can refer to the old one), so the upload never
   * needs a staging buffer or a copy inside the batch.
   */
  private writeWords(b: WebGPUBuffer, words: Float32Array | Int32Array | Uint32Array): void {
    const pending = this.recorder.pending;
    if (pending.has(b.gpu)) {
      const old = b.gpu;
      // A deferred kernel still reading the old buffer keeps it out of the pool (see releaseGpu).
      if (this.deferred.some((d) => d.reads.has(old))) {
        b.gpu = this.pool.acquire(old.size, (g) => !pending.has(g));
        this.held.add(old);
      } else b.gpu = this.pool.exchange(old, (g) => !pending.has(g));
    }
    this.device.queue.writeBuffer(b.gpu, 0, words.buffer, words.byteOffset, words.byteLength);
    this.counters.writes++;
  }

  /** Copies the buffer into a staging buffer, submits, maps it and converts to the host array. */
  async read(buffer: BackendBuffer): Promise<TypedArray> {
    this.check();
    const b = gpuBuffer(buffer, "read");
    this.settle([b], []);
    const out = hostArray(b.dtype, b.size);
    if (b.size === 0) {
      await this.sync();
      return out;
    }
    const bytes = b.size * 4;
    const staging = this.readPool.acquire(bytes);
    this.recorder.copy(b.gpu, 0, staging, 0, bytes);
    const validated = this.recorder.flush();
    try {
      await this.wait(Promise.all([staging.mapAsync(MapMode.READ, 0, bytes), validated]));
      this.check();
    } catch (e) {
      staging.destroy(); // its state is unknown after a failure: never pool it again
      throw e;
    }
    const range = staging.getMappedRange(0, bytes);
    if (b.dtype === "bool") (out as Uint8Array).set(new Uint32Array(range));
    else new Uint8Array(out.buffer, out.byteOffset, bytes).set(new Uint8Array(range));
    staging.unmap();
    this.readPool.release(staging);
    return out;
  }

  /** Sets every element (bool: value != 0; int32: wraps like `value | 0`). */
  fill(buffer: BackendBuffer, value: number): void {
    this.check();
    const b = gpuBuffer(buffer, "fill");
    this.settle([], [b]);
    // Compiled programs keep no host-side values in their buffers (a run would not refresh them).
    if (b.size === 1 && !this.compiling) b.hostWord = wordOf(value, b.dtype);
    else fill(this.ctx, b, value);
  }

  /** dst[i] = src[i] with dtype conversion, both strided. */
  copy(src: StridedView, dst: StridedView): void {
    this.check();
    this.settle(this.bound(src), [dst.buffer]);
    copy(this.ctx, src, dst);
  }

  /** out = op(x). */
  unary(op: UnaryOp, x: StridedView, out: BackendBuffer): void {
    this.check();
    this.settle(this.bound(x), [out]);
    unary(this.ctx, op, x, gpuBuffer(out, "unary"));
  }

  /** out = a op b. */
  binary(op: BinaryOp, a: StridedView, b: StridedView, out: BackendBuffer): void {
    this.check();
    this.settle(this.bound(a, b), [out]);
    binary(this.ctx, op, a, b, gpuBuffer(out, "binary"));
  }

  /** out = cond ? a : b. */
  where(cond: StridedView, a: StridedView, b: StridedView, out: BackendBuffer): void {
    this.check();
    this.settle(this.bound(cond, a, b), [out]);
    where(this.ctx, cond, a, b, gpuBuffer(out, "where"));
  }

  /** Reduces the last axis of contiguous x viewed as [outer, inner]. */
  reduce(op: ReduceOp, x: BackendBuffer, outer: number, inner: number, out: BackendBuffer): void {
    this.check();
    this.settle([x], [out]);
    reduce(this.ctx, op, gpuBuffer(x, "reduce"), outer, inner, gpuBuffer(out, "reduce"));
  }

  /** Submits recorded work and waits until the GPU has finished all of it. */
  async sync(): Promise<void> {
    this.check();
    this.settleAll();
    const validated = this.recorder.flush();
    await this.wait(Promise.all([this.device.queue.onSubmittedWorkDone(), validated]));
    this.check();
  }

  /** Submits recorded work without waiting (lets the GPU start while JS continues). */
  flush(): void {
    this.check();
    this.settleAll();
    void this.recorder.flush();
  }

  /**
   * Prepares a recorded program (see `capture` in @tessera/tensor): fuses its elementwise chains
   * (compile/fusion.ts), then runs every call's kernel selection and parameter packing once,
   * keeping the dispatches instead of recording them, so that a run only records prepared dispatches. Unused gradient kernels were already dropped from
   * the program, so nothing is deferred; scratch buffers stay with the program until it is disposed.
   */
  compile(program: BackendProgram): CompiledProgram {
    this.check();
    this.settleAll();
    const dynamic = program.dynamic.map((b) => gpuBuffer(b, "compile"));
    // Dynamic buffers change every run: none of their values may be baked in as a parameter.
    for (const b of dynamic) if (b.hostWord !== undefined) this.uploadHostWord(b);
    const compiling = { dispatches: [] as RecordedDispatch[], temps: [] as WebGPUBuffer[] };
    this.compiling = compiling;
    try {
      for (const call of fuseElementwise(program.calls, new Set(program.dynamic))) {
        if (call.op === "fused") this.executeFused(call);
        else runProgramCall(this, call);
      }
    } catch (e) {
      for (const t of compiling.temps) this.free(t);
      throw e;
    } finally {
      this.compiling = null;
    }
    const alignment = Math.max(16, this.device.limits.minUniformBufferOffsetAlignment);
    const prepared = new CompiledDispatches(
      this.device,
      this.recorder,
      compiling.dispatches,
      dynamic.map((b) => b.gpu),
      alignment,
    );
    this.counters.writes++; // the parameters, written once
    return {
      run: (buffers) => {
        this.check();
        this.settleAll();
        const gpus = buffers.map((b, i) => {
          const w = gpuBuffer(b, "run");
          if (w.size !== dynamic[i]!.size || w.dtype !== dynamic[i]!.dtype) {
            throw new WebGPUBackendError(
              `run: dynamic buffer ${i} has ${w.size} ${w.dtype} elements, the program was compiled for ${dynamic[i]!.size} ${dynamic[i]!.dtype}`,
            );
          }
          if (w.hostWord !== undefined) this.uploadHostWord(w);
          return w.gpu;
        });
        prepared.run(gpus);
      },
      dispose: () => {
        prepared.destroy();
        for (const t of compiling.temps) this.free(t);
        compiling.temps.length = 0;
      },
    };
  }

  /** Records a fused elementwise call (see compile/fusion.ts). */
  private executeFused(call: FusedCall): void {
    const out = gpuBuffer(call.out, "fused");
    this.settle(this.bound(...call.inputs), [out]);
    fused(this.ctx, call, out);
  }

  /** Buffers and bytes in use by tensors and held in the reuse pool. */
  memory(): BackendMemory {
    return {
      buffers: this.live.size,
      bytes: this.liveBytes,
      pooledBuffers: this.pool.pooledBuffers,
      pooledBytes: this.pool.pooledBytes,
    };
  }

  /** Diagnostics: host work so far (dispatches, bind groups, writes, staging buffers, submits, waits), pipelines, pending work. */
  stats(): WebGPUStats {
    const c = this.counters;
    return {
      submits: c.submits,
      dispatches: c.dispatches,
      bindGroupsCreated: c.bindGroupsCreated,
      writes: c.writes,
      stagingBuffers: c.stagingBuffers,
      waits: c.waits,
      pipelines: this.pipelines.size,
      pendingDispatches: this.recorder.pendingDispatches,
      elidedKernels: this.elided,
      deferredKernels: this.deferred.length,
    };
  }

  /** Destroys every buffer and (when this package created it) the device, so Node can exit. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.failures.record(disposedError());
    for (const b of this.live) {
      b.live = false;
      b.gpu.destroy();
    }
    this.live.clear();
    this.liveBytes = 0;
    this.deferred = [];
    for (const h of this.held) h.destroy();
    this.held.clear();
    this.pool.clear();
    this.readPool.clear();
    this.ring.destroy();
    if (this.acquired.owned) this.device.destroy();
    this.acquired.release();
  }
}

function disposedError(): WebGPUBackendError {
  return new WebGPUBackendError("the backend was disposed");
}

/** The 32-bit words a host array occupies on the GPU (bool bytes widen to u32 0/1). */
function toWords(dtype: DType, data: TypedArray): Float32Array | Int32Array | Uint32Array {
  if (dtype === "bool") {
    const w = new Uint32Array(data.length);
    for (let i = 0; i < data.length; i++) w[i] = data[i] !== 0 ? 1 : 0;
    return w;
  }
  if (dtype === "float32") return data instanceof Float32Array ? data : Float32Array.from(data);
  return data instanceof Int32Array ? data : Int32Array.from(data);
}

/** The environment variable that sets `kernelTuning` where the option is not given (Node). */
export const KERNEL_TUNING_ENV = "TESSERA_WEBGPU_KERNEL_TUNING";

/** `kernelTuning` as asked for: the option, else the environment variable, else undefined (adapter's default). */
function requestedKernelTuning(options: WebGPUBackendOptions): "gpu" | "software" | undefined {
  if (options.kernelTuning !== undefined) {
    const t = options.kernelTuning;
    if (t !== "gpu" && t !== "software") {
      throw new WebGPUBackendError(`createWebGPUBackend: kernelTuning must be "gpu" or "software", got ${JSON.stringify(t)}`);
    }
    return t;
  }
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[KERNEL_TUNING_ENV];
  if (env === undefined || env === "") return undefined;
  if (env !== "gpu" && env !== "software") throw new WebGPUBackendError(`${KERNEL_TUNING_ENV} must be gpu or software, got ${JSON.stringify(env)}`);
  return env;
}

/** Requests a WebGPU device and returns a backend running on it. */
export async function createWebGPUBackend(options: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
  requestedKernelTuning(options); // checked before a device is acquired, so a bad value leaks none
  const acquired = await acquireDevice(options);
  return new WebGPUBackend(acquired, options);
}
