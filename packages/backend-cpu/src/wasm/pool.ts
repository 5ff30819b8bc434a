/**
 * Runs kernel jobs on the calling thread plus worker threads sharing its memory and module.
 *
 * Hand-off is a futex-style word in shared memory rather than `postMessage`, which needs both
 * event loops (docs/cpu-kernels.md, "Two threads"): a worker spins briefly on `Atomics.load`
 * after each job, so back-to-back kernels find it awake, then sleeps in `Atomics.wait`. The
 * caller always works on its own job too, so a worker that is slow to wake or starved of a core
 * only makes the job take the time one thread needs, never longer. Workers are Node worker
 * threads or a browser's Web Workers (threads.ts); a thread that may not block (a browser's
 * main thread) waits for the workers' last chunks by spinning alone.
 */
import { CLOSED, JOB_BYTES, JOB_PARAM_SLOTS, JobWord } from "./job.js";
import { KIND_NAMES } from "./module.js";
import { canBlock, type KernelWorker, kernelWorkerSpawner, kernelWorkerSpawnerSync } from "./threads.js";
import { isSharedMemory, type WasmMemory, type WasmModule } from "./wasm-api.js";

const W = JobWord;

/**
 * A threaded job whose caller, done with its own chunks, waited longer than STALL_CHUNKS
 * chunks' time (plus STALL_MIN_MS) for a worker has stalled: the worker was most likely
 * descheduled holding a chunk, as happens when other processes keep the cores busy. The next
 * SOLO_JOBS jobs then run on the caller alone (which changes no result), and the worker is
 * tried again after them. On an idle machine a caller waits at most about one chunk, so the
 * bound is in chunks: a job of a few long chunks (one thread gets one more) is no stall.
 */
const STALL_CHUNKS = 2;
const STALL_MIN_MS = 1;
const SOLO_JOBS = 8;

/** How long a caller told to await the worker waits for it to claim a chunk before it gives up. */
const AWAIT_WORKER_MS = 300_000;

/** Options of {@link JobRunner.startWorkers}. */
export interface JobRunnerOptions {
  /** Worker threads to start besides the caller (0: run every job on the caller). */
  workers: number;
  /** `Atomics.load` polls a worker makes after a job before it sleeps. */
  spin: number;
}

/** How a {@link JobRunner} shares jobs. */
export interface JobRunnerMode {
  /**
   * In every job shared with a worker, the caller waits until a worker has claimed a chunk
   * before it claims any itself, and a stalled worker is waited for rather than bypassed: the
   * worker provably runs part of every shared job, however busy the machine. For tests that
   * compare thread counts; slower otherwise.
   */
  awaitWorker?: boolean;
}

/**
 * Publishes jobs in a job descriptor and runs them with the caller and its workers.
 *
 * A runner starts with the caller alone and takes on workers as they come online
 * ({@link startWorkers}): a worker counts once it has said so in the descriptor's `online`
 * word, read at the start of each job, so it joins even while the caller never yields to the
 * event loop (a training loop whose reads resolve at once). Kernels split work so that
 * results do not depend on the number of threads, so a worker joining changes no number.
 */
export class JobRunner {
  private readonly words: Int32Array;
  private disposed = false;
  private failure: unknown;
  /** Every worker started, online or not (all are terminated by dispose). */
  private readonly started: KernelWorker[] = [];
  /** Whether the caller may sleep in `Atomics.wait` (not on a browser's main thread). */
  private readonly callerCanBlock: boolean;
  /** Jobs left to run on the caller alone after a stall. */
  private soloJobsLeft = 0;
  private readonly soloWords: Int32Array;
  /**
   * Counters for tuning and tests: threaded jobs, their chunks and the chunks the caller ran
   * itself; threaded jobs in which a worker ran at least one chunk; jobs the caller ran alone;
   * stalls (jobs whose caller waited long for a worker).
   */
  readonly stats = { jobs: 0, chunks: 0, callerChunks: 0, workerJobs: 0, soloJobs: 0, stalls: 0 };
  private readonly awaitWorker: boolean;

  /**
   * `job` and `soloJob` are JOB_BYTES blocks in `memory`: the descriptor workers watch, and
   * one for jobs the caller runs alone. `runJob` is the caller's instance of `run_job`.
   */
  constructor(
    private readonly job: number,
    private readonly soloJob: number,
    memory: WasmMemory,
    private readonly runJob: (job: number, thread: number) => number,
    mode: JobRunnerMode = {},
  ) {
    this.awaitWorker = mode.awaitWorker ?? false;
    // the descriptors are allocated before any later grow, so these views stay valid
    this.words = new Int32Array(memory.buffer, job, JOB_BYTES / 4);
    this.soloWords = new Int32Array(memory.buffer, soloJob, JOB_BYTES / 4);
    this.words.fill(0);
    this.soloWords.fill(0);
    this.callerCanBlock = canBlock(this.words, W.stop);
  }

  /**
   * Starts `options.workers` workers on the compiled module and shared memory: Node worker
   * threads, or Web Workers in a cross-origin isolated page; none elsewhere, nor on a memory
   * that is not shared. Each is used from the moment it is ready; the promise settles when all
   * are, and rejects if one failed to start (the runner then goes on without it). Workers
   * are numbered 1.. (the caller is thread 0) for kernels that give each thread scratch.
   */
  async startWorkers(module: WasmModule, memory: WasmMemory, options: JobRunnerOptions): Promise<void> {
    if (options.workers <= 0 || !isSharedMemory(memory)) return;
    // synchronously where possible, so the workers start now, not after the caller next
    // yields to the event loop (a dynamic import settles only then)
    const spawn = kernelWorkerSpawnerSync() ?? (await kernelWorkerSpawner());
    if (!spawn || this.disposed) return;
    const ready: Promise<void>[] = [];
    for (let i = 0; i < options.workers; i++) {
      const worker = spawn({ module, memory, job: this.job, spin: options.spin, thread: this.started.length + 1 });
      this.started.push(worker);
      ready.push(worker.ready);
    }
    await Promise.all(ready);
  }

  /** Number of threads that run a job now: the caller plus the workers that are ready. */
  get threads(): number {
    if (this.disposed) return 1;
    // read from shared memory, not from the workers' ready messages, which only arrive when
    // the caller next yields to the event loop
    return 1 + Math.min(this.started.length, Atomics.load(this.words, W.online));
  }

  /**
   * Runs `chunks` chunks of a job of `kind` with `params` in its parameter slots, and returns
   * when all are done. Chunks must be independent: they may run in any order on any thread.
   */
  run(kind: number, chunks: number, params: readonly number[]): void {
    if (this.disposed) throw new Error("JobRunner.run: the runner was disposed");
    if (this.failure !== undefined) {
      throw new Error(`JobRunner.run: an earlier job trapped (${String(this.failure)}); create new kernels`);
    }
    if (params.length > JOB_PARAM_SLOTS) {
      throw new RangeError(`JobRunner.run: ${params.length} parameters, at most ${JOB_PARAM_SLOTS} fit`);
    }
    if (!(chunks >= 1 && chunks < CLOSED)) {
      throw new RangeError(`JobRunner.run: chunk count ${chunks} is outside [1, ${CLOSED - 1}]`);
    }
    if (this.threads === 1 || this.soloJobsLeft > 0) {
      this.soloJobsLeft = Math.max(0, this.soloJobsLeft - 1);
      this.runSolo(kind, chunks, params);
      return;
    }
    const start = performance.now();
    const w = this.words;
    const seq = Atomics.load(w, W.work) >>> 16;
    // close the previous job so nobody claims a chunk while the parameters change
    Atomics.store(w, W.work, (seq << 16) | CLOSED);
    this.describe(w, kind, chunks, params);
    // publishing (a sequentially consistent store) makes the plain writes above visible
    Atomics.store(w, W.work, ((seq + 1) & 0x7fff) << 16);
    Atomics.notify(w, W.work);
    if (this.awaitWorker) this.waitForWorkerClaim(kind);

    let callerChunks: number;
    try {
      callerChunks = this.runJob(this.job, 0) >>> 1;
    } catch (e) {
      // a trap leaves chunks unfinished that a worker may still be running; a later job
      // could count them as its own, so this runner takes no more jobs
      Atomics.store(w, W.work, (Atomics.load(w, W.work) & 0xffff0000) | CLOSED);
      this.failure = e;
      throw e;
    }
    this.stats.jobs++;
    this.stats.chunks += chunks;
    this.stats.callerChunks += callerChunks;
    if (callerChunks < chunks) this.stats.workerJobs++;

    // wait for chunks other threads still hold: they are in flight, so spin, then sleep
    const waitStart = performance.now();
    for (let spins = 0; ; spins++) {
      const done = Atomics.load(w, W.done);
      if (done === chunks) break;
      if (Atomics.load(w, W.error) !== 0) {
        throw new Error(`JobRunner.run: a kernel worker failed during a job of kind ${kind} (${KIND_NAMES[kind] ?? "unknown"})`);
      }
      if (spins > 20_000 && this.callerCanBlock) Atomics.wait(w, W.done, done, 10);
    }
    const end = performance.now();
    // one chunk's time, as if the threads had shared the job evenly
    const chunkMs = ((end - start) * this.threads) / chunks;
    if (!this.awaitWorker && end - waitStart > STALL_MIN_MS + STALL_CHUNKS * chunkMs) {
      this.stats.stalls++;
      this.soloJobsLeft = SOLO_JOBS;
    }
  }

  /**
   * Waits until a worker has claimed a chunk of the job just published (the work word's chunk
   * counter moves off 0 before the caller claims any). Wakes every millisecond: a worker does not
   * notify on a claim. A worker that never comes closes the job and fails the runner.
   */
  private waitForWorkerClaim(kind: number): void {
    const w = this.words;
    const deadline = performance.now() + AWAIT_WORKER_MS;
    for (let spins = 0; ; spins++) {
      const v = Atomics.load(w, W.work);
      if ((v & 0xffff) !== 0) return;
      if (spins > 20_000) {
        // close the job unless a worker claims a chunk at this very moment
        if (performance.now() > deadline && Atomics.compareExchange(w, W.work, v, (v & 0xffff0000) | CLOSED) === v) {
          this.failure = `no worker claimed a chunk of a job of kind ${kind} (${KIND_NAMES[kind] ?? "unknown"}) in ${AWAIT_WORKER_MS / 1000} s`;
          throw new Error(`JobRunner.run: awaitWorker: ${this.failure}`);
        }
        if (this.callerCanBlock) Atomics.wait(w, W.work, v, 1);
      }
    }
  }

  /** A job on the caller alone, in a descriptor no worker watches. */
  private runSolo(kind: number, chunks: number, params: readonly number[]): void {
    const w = this.soloWords;
    w[W.work] = 0;
    this.describe(w, kind, chunks, params);
    try {
      this.runJob(this.soloJob, 0);
    } catch (e) {
      this.failure = e;
      throw e;
    }
    this.stats.soloJobs++;
  }

  /** Writes a job's kind, chunk count and parameters, and clears its counters. */
  private describe(w: Int32Array, kind: number, chunks: number, params: readonly number[]): void {
    for (let k = 0; k < params.length; k++) w[W.params + k] = params[k]!;
    w[W.kind] = kind;
    w[W.chunks] = chunks;
    Atomics.store(w, W.done, 0);
    Atomics.store(w, W.error, 0);
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
    await Promise.all(this.started.map((worker) => worker.terminate()));
  }
}
