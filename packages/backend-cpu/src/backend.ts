import { type Backend, type BackendMemory, bytesPerElement, type HeavyKernels } from "@tessera/tensor";
import { type CpuBuffer, dataOf, ptrOf } from "./buffer.js";
import { referenceKernels } from "./heavy/reference.js";
import { wasmKernels } from "./heavy/wasm.js";
import { binary, copy, unary, where } from "./kernels/elementwise.js";
import { reduce } from "./kernels/reduce.js";
import { wasmBinary, wasmUnary } from "./kernels/wasm-elementwise.js";
import { arenaStorage } from "./storage/arena.js";
import type { Storage } from "./storage/storage.js";
import { typedArrayStorage } from "./storage/typed-arrays.js";
import { type Arena, createWasmKernelsSync, type SimdFlavour, type WasmKernels } from "./wasm/index.js";
import { nodeBuiltin } from "./wasm/node.js";
import { kernelWorkersUnavailable } from "./wasm/threads.js";

/** Options of `createCpuBackend`. */
export interface CpuBackendOptions {
  /** Registry name (default `cpu`). */
  name?: string;
  /** Leave out the heavy kernels so the core's fallbacks run (for testing the contract). */
  primitivesOnly?: boolean;
  /**
   * `wasm` (default): tensors live in a shared WebAssembly memory and GEMM and convolutions
   * run as WebAssembly SIMD; where that cannot start (a runtime without SIMD or without shared
   * WebAssembly memory, a main thread that refuses to compile the module synchronously) the
   * backend falls back to `js` and says why in `fallbackReason`. `js`: typed arrays and the TypeScript reference kernels.
   */
  kernels?: "wasm" | "js";
  /**
   * Threads the wasm kernels run on (default 2 where the machine has two cores, else 1: in Node
   * `os.availableParallelism()`, in a browser `navigator.hardwareConcurrency`, and only in a
   * cross-origin isolated page, the one place a browser lets a worker share the memory).
   * The backend starts on one; the second joins when its worker is up (`await backend.ready()`
   * to wait for it). Results are bit-identical for 1 and 2 threads.
   */
  threads?: 1 | 2;
  /** GEMMs below this many flops run on one thread (default 3e6, about 100 µs of work). */
  parallelMinFlops?: number;
  /**
   * For tests that compare thread counts: in every kernel call shared between the threads, the
   * caller lets the worker claim a chunk before it takes any, so the worker provably computes
   * part of every shared call (`kernelStats().workerJobs === kernelStats().jobs`) however busy
   * the machine. Slower; default false.
   */
  awaitWorker?: boolean;
}

/** What the arena of the wasm kernels holds, in bytes. */
export interface ArenaReport {
  /** Live blocks: tensors plus the kernels' scratch. */
  bytesInUse: number;
  /** Number of live blocks. */
  liveBlocks: number;
  /** Freed blocks kept for reuse. */
  pooledBytes: number;
  /** Size of the shared memory (it grows, never shrinks). */
  capacity: number;
}

/** The CPU backend, with what it reports about its kernels. */
export interface CpuBackend extends Backend {
  /** The kernels that run: `wasm` (WebAssembly SIMD) or `js` (the TypeScript reference). */
  readonly engine: "wasm" | "js";
  /** Why `kernels: "wasm"` fell back to `js`; absent otherwise. */
  readonly fallbackReason?: string;
  /** The SIMD flavour of the wasm kernels (`relaxed`: fused multiply-add); absent for `js`. */
  readonly simd?: SimdFlavour;
  /** Threads a large kernel may run on now (1 until the second one is up). */
  readonly threads: number;
  /** Resolves once every thread asked for is running (at once for `js` or one thread). */
  ready(): Promise<void>;
  /** The arena's own figures (wasm engine only; undefined for `js`). */
  arena(): ArenaReport | undefined;
  /**
   * How the wasm kernels' jobs ran (undefined for `js`): jobs shared with the worker, their
   * chunks and how many the caller ran, and in how many the worker ran a chunk; jobs the
   * caller ran alone; stalls (see the README).
   */
  kernelStats(): WasmKernels["stats"] | undefined;
  memory(): BackendMemory;
  dispose(): Promise<void>;
}

/**
 * Threads by default: two where the machine has two cores to give and a worker can start
 * (in a browser, only in a cross-origin isolated page).
 */
function defaultThreads(): 1 | 2 {
  if (kernelWorkersUnavailable() !== undefined) return 1;
  const os = nodeBuiltin<{ availableParallelism?: () => number }>("node:os");
  const navigator = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return (os?.availableParallelism?.() ?? navigator?.hardwareConcurrency ?? 1) >= 2 ? 2 : 1;
}

/** The wasm kernels, started synchronously, or why they cannot run here. */
function startWasm(options: CpuBackendOptions): { kernels?: WasmKernels; fallbackReason?: string } {
  try {
    const threads = options.threads ?? defaultThreads();
    return { kernels: createWasmKernelsSync({ threads, parallelMinFlops: options.parallelMinFlops, awaitWorker: options.awaitWorker }) };
  } catch (e) {
    return { fallbackReason: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * The CPU backend: every primitive and heavy kernel, deterministic (the same inputs always
 * give bit-identical outputs, whatever the number of threads). Synchronous, so the core can
 * pick it as the default backend the moment a tensor is made.
 */
export function createCpuBackend(options: CpuBackendOptions = {}): CpuBackend {
  const { kernels: wk, fallbackReason } = options.kernels === "js" ? {} : startWasm(options);
  const arena: Arena | undefined = wk?.arena;
  const storage: Storage = arena ? arenaStorage(arena) : typedArrayStorage();
  const heavy: HeavyKernels = wk ? wasmKernels(wk) : referenceKernels;
  let buffers = 0;
  let bytes = 0;
  return {
    name: options.name ?? "cpu",
    engine: wk ? "wasm" : "js",
    ...(fallbackReason === undefined ? {} : { fallbackReason }),
    ...(wk ? { simd: wk.simd } : {}),
    get threads() {
      return wk?.threads ?? 1;
    },
    ready: async () => {
      await wk?.ready;
    },
    arena: () => arena && { bytesInUse: arena.bytesInUse, liveBlocks: arena.liveBlocks, pooledBytes: arena.pooledBytes, capacity: arena.capacity },
    kernelStats: () => wk?.stats,
    alloc(size, dtype) {
      const buffer = storage.alloc(size, dtype); // counted only once it exists: a refusal leaves the counts true
      buffers++;
      bytes += size * bytesPerElement(dtype);
      return buffer;
    },
    free(buffer) {
      buffers--;
      bytes -= buffer.size * bytesPerElement(buffer.dtype);
      storage.free(buffer as CpuBuffer);
    },
    write(buffer, data) {
      dataOf(buffer).set(data);
    },
    async read(buffer) {
      return dataOf(buffer).slice();
    },
    readSync(buffer) {
      return dataOf(buffer).slice();
    },
    fill(buffer, value) {
      dataOf(buffer).fill(buffer.dtype === "bool" ? (value ? 1 : 0) : value);
    },
    copy,
    unary: wk
      ? (op, x, out) => wasmUnary(wk, op, x, dataOf(out), ptrOf(out))
      : (op, x, out) => {
          unary(op, x, dataOf(out));
        },
    binary: wk
      ? (op, a, b, out) => wasmBinary(wk, op, a, b, dataOf(out), ptrOf(out))
      : (op, a, b, out) => {
          binary(op, a, b, dataOf(out), a.buffer.dtype);
        },
    where(cond, a, b, out) {
      where(cond, a, b, dataOf(out));
    },
    reduce(op, x, outer, inner, out) {
      if (wk && op === "sum" && x.dtype === "float32") wk.sumRows(outer, inner, ptrOf(x), ptrOf(out));
      else reduce(op, dataOf(x), outer, inner, dataOf(out));
    },
    ...(options.primitivesOnly ? {} : { kernels: heavy }),
    memory() {
      const pooled = storage.pooled();
      return { buffers, bytes, pooledBytes: pooled.bytes, pooledBuffers: pooled.blocks };
    },
    async dispose() {
      await wk?.dispose();
    },
  };
}
