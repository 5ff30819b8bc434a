/**
 * Runs kernel jobs on the calling thread plus worker threads sharing its memory and module.
 *
 * Hand-off is a futex-style word in shared memory rather than `postMessage` (~30 µs to wake
 * a sleeping worker, CPU-KERNELS.md): a worker spins briefly on `Atomics.load` after each job,
 * so back-to-back kernels find it awake, then sleeps in `Atomics.wait`. The caller always
 * works on its own job too, so a worker that is slow to wake or starved of a core only makes
 * the job take the time one thread needs, never longer.
 */
import { CLOSED, JOB_BYTES, JOB_PARAM_SLOTS, JobField } from "./job.js";

/** Word indices (Int32Array) of the job fields used from JS. */
const W = {
  work: JobField.work / 4,
  done: JobField.done / 4,
  stop: JobField.stop / 4,
  error: JobField.error / 4,
  kind: JobField.kind / 4,
  chunks: JobField.chunks / 4,
  params: JobField.params / 4,
} as const;

/**
 * The worker's whole program. Plain CommonJS evaluated with `eval: true`, so it runs the same
 * under vitest (TS sources), from a build, or bundled, with no worker file to locate.
 */
const WORKER_SOURCE = `"use strict";
const { workerData, parentPort } = require("node:worker_threads");
const { module, memory, job, spin } = workerData;
const { run_job } = new WebAssembly.Instance(module, { env: { memory } }).exports;
const w = new Int32Array(memory.buffer, job, ${JOB_BYTES / 4});
let seen = -1;
parentPort.postMessage("ready");
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
    if (run_job(job) !== 0) Atomics.notify(w, ${W.done});
  } catch (e) {
    Atomics.store(w, ${W.error}, 1);
    Atomics.notify(w, ${W.done});
    throw e;
  }
}
`;

/** The minimal view of a Node `Worker` this module needs (keeps `node:` types out of the API). */
interface WorkerHandle {
  terminate(): Promise<number>;
  unref(): void;
  once(event: "message" | "error" | "exit", listener: (value: unknown) => void): void;
  on(event: "error", listener: (error: unknown) => void): void;
}

/** Options of {@link JobRunner.create}. */
export interface JobRunnerOptions {
  /** Worker threads to start besides the caller (0: run every job on the caller). */
  workers: number;
  /** `Atomics.load` polls a worker makes after a job before it sleeps. */
  spin: number;
}

/** Publishes jobs in a job descriptor and runs them with the caller and its workers. */
export class JobRunner {
  private readonly words: Int32Array;
  private disposed = false;

  private constructor(
    private readonly job: number,
    memory: WebAssembly.Memory,
    private readonly runJob: (job: number) => number,
    private readonly workers: readonly WorkerHandle[],
  ) {
    // the descriptor is allocated before any later grow, so this view stays valid
    this.words = new Int32Array(memory.buffer, job, JOB_BYTES / 4);
  }

  /**
   * Starts `options.workers` workers (Node only; none elsewhere) on the compiled module and
   * shared memory, and resolves once they are running. `job` is a JOB_BYTES block in memory.
   */
  static async create(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    runJob: (job: number) => number,
    job: number,
    options: JobRunnerOptions,
  ): Promise<JobRunner> {
    new Int32Array(memory.buffer, job, JOB_BYTES / 4).fill(0);
    const workers: WorkerHandle[] = [];
    const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";
    if (options.workers > 0 && isNode) {
      const { Worker } = await import("node:worker_threads");
      const ready: Promise<void>[] = [];
      for (let i = 0; i < options.workers; i++) {
        const worker = new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { module, memory, job, spin: options.spin },
        }) as unknown as WorkerHandle;
        // a worker must never keep the process alive
        worker.unref();
        ready.push(
          new Promise<void>((resolve, reject) => {
            worker.once("message", () => resolve());
            worker.once("error", reject);
            worker.once("exit", (code) => reject(new Error(`kernel worker exited with code ${String(code)}`)));
          }),
        );
        // after start-up an error only means fewer threads; the caller finishes every job
        worker.on("error", () => {});
        workers.push(worker);
      }
      try {
        await Promise.all(ready);
      } catch (e) {
        for (const worker of workers) void worker.terminate();
        throw e;
      }
    }
    return new JobRunner(job, memory, runJob, workers);
  }

  /** Number of threads that run a job: the caller plus the workers. */
  get threads(): number {
    return 1 + this.workers.length;
  }

  /**
   * Runs `chunks` chunks of a job of `kind` with `params` in its parameter slots, and returns
   * when all are done. Chunks must be independent: they may run in any order on any thread.
   */
  run(kind: number, chunks: number, params: readonly number[]): void {
    if (this.disposed) throw new Error("JobRunner.run: the runner was disposed");
    if (params.length > JOB_PARAM_SLOTS) {
      throw new RangeError(`JobRunner.run: ${params.length} parameters, at most ${JOB_PARAM_SLOTS} fit`);
    }
    if (!(chunks >= 1 && chunks < CLOSED)) {
      throw new RangeError(`JobRunner.run: chunk count ${chunks} is outside [1, ${CLOSED - 1}]`);
    }
    const w = this.words;
    const seq = Atomics.load(w, W.work) >>> 16;
    // close the previous job so nobody claims a chunk while the parameters change
    Atomics.store(w, W.work, (seq << 16) | CLOSED);
    for (let k = 0; k < params.length; k++) w[W.params + k] = params[k]!;
    w[W.kind] = kind;
    w[W.chunks] = chunks;
    Atomics.store(w, W.done, 0);
    Atomics.store(w, W.error, 0);
    // publishing (a sequentially consistent store) makes the plain writes above visible
    Atomics.store(w, W.work, ((seq + 1) & 0x7fff) << 16);
    if (this.workers.length > 0) Atomics.notify(w, W.work);

    this.runJob(this.job);

    // wait for chunks other threads still hold: they are in flight, so spin, then sleep
    for (let spins = 0; ; spins++) {
      const done = Atomics.load(w, W.done);
      if (done === chunks) return;
      if (Atomics.load(w, W.error) !== 0) {
        throw new Error(`JobRunner.run: a kernel worker failed during a job of kind ${kind}`);
      }
      if (spins > 20_000) Atomics.wait(w, W.done, done, 10);
    }
  }

  /**
   * Stops and terminates the workers (idempotent). Resolves once they have exited: only then
   * may the job descriptor's memory be reused, since a lagging worker still reads it.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const w = this.words;
    Atomics.store(w, W.stop, 1);
    const seq = Atomics.load(w, W.work) >>> 16;
    Atomics.store(w, W.work, (((seq + 1) & 0x7fff) << 16) | CLOSED);
    Atomics.notify(w, W.work);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
