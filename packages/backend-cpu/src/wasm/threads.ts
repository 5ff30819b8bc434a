/**
 * Kernel worker threads: Node's `worker_threads`, or a browser's Web Workers.
 *
 * Both run the same program on the compiled module and the shared memory. In a browser a
 * shared memory can only be posted to a worker from a cross-origin isolated page (COOP
 * `same-origin` + COEP `require-corp`), so elsewhere no worker starts and the kernels run on
 * the calling thread alone, with the same results. The worker is a classic script made from a
 * Blob URL, so a bundler has no worker file to find and no page has to serve one.
 */
import { JOB_BYTES, JobWord } from "./job.js";
import { importNodeBuiltin, isNode, nodeBuiltin } from "./node.js";
import type { WasmMemory, WasmModule } from "./wasm-api.js";

/** What a worker needs: the module, the memory, the job descriptor it watches, its polls and its number. */
export interface KernelWorkerData {
  module: WasmModule;
  memory: WasmMemory;
  /** Byte offset of the job descriptor. */
  job: number;
  /** `Atomics.load` polls after a job before sleeping. */
  spin: number;
  /** The worker's thread number (1..; the caller is 0). */
  thread: number;
}

/** A started worker. */
export interface KernelWorker {
  /** Resolves once the worker watches the descriptor; rejects if it failed to start. */
  readonly ready: Promise<void>;
  /** Stops the worker; resolves once it is gone. */
  terminate(): Promise<void>;
}

const W = JobWord;

/**
 * The worker's loop, once `module`, `memory`, `job`, `spin`, `thread` and `announce` are in
 * scope: instantiate on the shared memory, say so in the descriptor, then claim chunks of each
 * new job, spinning briefly before sleeping in `Atomics.wait`.
 */
const WORKER_LOOP = `
const { run_job } = new WebAssembly.Instance(module, { env: { memory } }).exports;
const w = new Int32Array(memory.buffer, job, ${JOB_BYTES / 4});
let seen = -1;
Atomics.add(w, ${W.online}, 1);
announce();
for (;;) {
  let v = Atomics.load(w, ${W.work});
  for (let i = 0; v >>> 16 === seen && i < spin; i++) v = Atomics.load(w, ${W.work});
  if (v >>> 16 === seen) {
    Atomics.wait(w, ${W.work}, v);
    continue;
  }
  if (Atomics.load(w, ${W.stop}) !== 0) break;
  seen = v >>> 16;
  try {
    if ((run_job(job, thread) & 1) !== 0) Atomics.notify(w, ${W.done});
  } catch (e) {
    Atomics.store(w, ${W.error}, 1);
    Atomics.notify(w, ${W.done});
    throw e;
  }
}
`;

/** Node: plain CommonJS evaluated with `eval: true`, so there is no worker file to locate. */
const NODE_WORKER_SOURCE = `"use strict";
const { workerData, parentPort } = require("node:worker_threads");
const { module, memory, job, spin, thread } = workerData;
const announce = () => parentPort.postMessage("ready");
${WORKER_LOOP}`;

/** Browsers: the first message carries the worker's data; the loop then never returns. */
const WEB_WORKER_SOURCE = `"use strict";
self.onmessage = (event) => {
  self.onmessage = null;
  const { module, memory, job, spin, thread } = event.data;
  const announce = () => self.postMessage("ready");
  ${WORKER_LOOP}
};`;

/** The minimal view of a Node `Worker` this module needs (keeps `node:` types out of the API). */
interface NodeWorker {
  terminate(): Promise<number>;
  unref(): void;
  once(event: "message" | "error" | "exit", listener: (value: unknown) => void): void;
  on(event: "error", listener: (error: unknown) => void): void;
}

interface WorkerThreads {
  Worker: new (source: string, options: { eval: boolean; workerData: unknown }) => NodeWorker;
}

/** The minimal view of a browser `Worker` (the project's types have no DOM). */
interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  addEventListener(type: "message" | "error", listener: (event: { message?: string; data?: unknown }) => void): void;
}

interface WebGlobals {
  Worker?: new (url: string, options?: { name?: string }) => WebWorker;
  crossOriginIsolated?: boolean;
  Blob?: new (parts: string[], options: { type: string }) => unknown;
  URL?: { createObjectURL(blob: unknown): string; revokeObjectURL(url: string): void };
}

const web = globalThis as unknown as WebGlobals;

/**
 * Why kernel workers cannot start here, or undefined when they can: Node always can; a browser
 * (or a worker of one) needs Web Workers, Blob URLs and cross-origin isolation.
 */
export function kernelWorkersUnavailable(): string | undefined {
  if (isNode()) return undefined;
  if (typeof web.Worker !== "function" || typeof web.Blob !== "function" || typeof web.URL?.createObjectURL !== "function") {
    return "this runtime has no Web Workers";
  }
  if (web.crossOriginIsolated !== true) {
    return "the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  }
  return undefined;
}

/** Starts one worker thread in Node. */
function spawnNodeWorker(threads: WorkerThreads, data: KernelWorkerData): KernelWorker {
  const worker = new threads.Worker(NODE_WORKER_SOURCE, { eval: true, workerData: data });
  // a worker must never keep the process alive
  worker.unref();
  const ready = new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`kernel worker exited with code ${String(code)}`)));
  }).catch((e: unknown) => {
    void worker.terminate();
    throw e;
  });
  // after start-up an error only means fewer threads; the caller finishes every job
  worker.on("error", () => {});
  return {
    ready,
    terminate: async () => {
      await worker.terminate();
    },
  };
}

/** Starts one Web Worker from a Blob URL and posts it the module and the shared memory. */
function spawnWebWorker(data: KernelWorkerData): KernelWorker {
  const url = web.URL!.createObjectURL(new web.Blob!([WEB_WORKER_SOURCE], { type: "text/javascript" }));
  let worker: WebWorker;
  try {
    worker = new web.Worker!(url, { name: `tessera-kernels-${data.thread}` });
  } catch (e) {
    web.URL!.revokeObjectURL(url);
    return { ready: Promise.reject(e), terminate: async () => {} };
  }
  const ready = new Promise<void>((resolve, reject) => {
    worker.addEventListener("message", () => resolve());
    worker.addEventListener("error", (event) => reject(new Error(`kernel worker failed to start: ${event.message ?? "error event"}`)));
  });
  ready.then(
    () => web.URL!.revokeObjectURL(url),
    () => {
      web.URL!.revokeObjectURL(url);
      worker.terminate();
    },
  );
  worker.postMessage(data);
  return {
    ready,
    terminate: async () => {
      worker.terminate();
    },
  };
}

/** Starts one kernel worker. */
export type KernelWorkerSpawner = (data: KernelWorkerData) => KernelWorker;

/**
 * A function that starts one kernel worker, found synchronously (Node's
 * `process.getBuiltinModule`, or a browser's `Worker`), so workers start at once rather than
 * after the caller next yields; undefined where none can start this way.
 */
export function kernelWorkerSpawnerSync(): KernelWorkerSpawner | undefined {
  if (isNode()) {
    const threads = nodeBuiltin<WorkerThreads>("node:worker_threads");
    return threads && ((data) => spawnNodeWorker(threads, data));
  }
  return kernelWorkersUnavailable() === undefined ? spawnWebWorker : undefined;
}

/** The same, also where Node's module is only reachable by a dynamic import. */
export async function kernelWorkerSpawner(): Promise<KernelWorkerSpawner | undefined> {
  const spawner = kernelWorkerSpawnerSync();
  if (spawner || !isNode()) return spawner;
  const threads = await importNodeBuiltin<WorkerThreads>("node:worker_threads");
  return threads && ((data) => spawnNodeWorker(threads, data));
}

/**
 * Whether this thread may block in `Atomics.wait` on `words` (a view of shared memory): a
 * browser's main thread may not, and throws. Waiting for a value the word does not hold
 * returns at once where blocking is allowed.
 */
export function canBlock(words: Int32Array, index: number): boolean {
  try {
    Atomics.wait(words, index, Atomics.load(words, index) + 1, 0);
    return true;
  } catch {
    return false;
  }
}
