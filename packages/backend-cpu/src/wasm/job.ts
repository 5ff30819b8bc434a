/**
 * The job descriptor: how the calling thread hands a kernel to worker threads.
 *
 * A job lives in the shared wasm memory. Its work is split into numbered chunks, and every
 * thread (the caller included) claims chunks from a counter until none are left, so a busy
 * or late core simply does fewer chunks. Claiming and chunk bookkeeping run in wasm
 * (`run_job`), so the caller and the workers share one implementation.
 *
 * The counter word holds the job's sequence number in its high 16 bits and the next chunk in
 * its low 16 bits, and a chunk is claimed by compare-exchange on the whole word: a thread that
 * read a finished job's state can never claim a chunk of the next job with stale parameters.
 * Between jobs the low half is set to CLOSED, so nothing can be claimed while the caller
 * rewrites the parameters.
 */
import {
  type Code,
  type Expr,
  type FunctionBuilder,
  get,
  i32,
  i32_add,
  i32_and,
  i32_atomic_cmpxchg,
  i32_atomic_load,
  i32_atomic_rmw_add,
  i32_eq,
  i32_ge_u,
  i32_load,
  i32_ne,
  i32_or,
  type ModuleBuilder,
  ValType,
} from "./emitter.js";

/** Byte offsets inside a job descriptor; counters sit 64 bytes apart to avoid false sharing. */
export const JobField = {
  /** `seq << 16 | nextChunk`, claimed by compare-exchange. */
  work: 0,
  /** Number of chunks finished; the caller waits for it to reach the chunk count. */
  done: 64,
  /** Non-zero tells workers to exit. */
  stop: 128,
  /** Set by a worker whose kernel threw, so the caller stops waiting and reports it. */
  error: 132,
  /** Workers that have instantiated the module and watch the work word (each adds 1). */
  online: 136,
  /** Which kernel the chunks belong to (an index into the kinds given to {@link emitRunJob}). */
  kind: 192,
  /** Number of chunks of the job (at most {@link MAX_CHUNKS}). */
  chunks: 196,
  /** First of the kernel's parameters, one i32 each. */
  params: 200,
} as const;

/** The same fields as word indices, for an Int32Array over the descriptor. */
export const JobWord = {
  work: JobField.work / 4,
  done: JobField.done / 4,
  stop: JobField.stop / 4,
  error: JobField.error / 4,
  online: JobField.online / 4,
  kind: JobField.kind / 4,
  chunks: JobField.chunks / 4,
  params: JobField.params / 4,
} as const;

/** Bytes to allocate for a job descriptor. */
export const JOB_BYTES = 320;

/** Number of i32 parameter slots after {@link JobField.params}. */
export const JOB_PARAM_SLOTS = (JOB_BYTES - JobField.params) / 4;

/** Low half of the work word between jobs: larger than any chunk index. */
export const CLOSED = 0xffff;

/** A job may have at most this many chunks (the work word's low half, less CLOSED). */
export const MAX_CHUNKS = CLOSED - 1;

/** An expression loading parameter `slot` of the job at `job`. */
export function jobParam(job: Expr, slot: number): Expr {
  return i32_load(job, JobField.params + 4 * slot);
}

/**
 * `run_job(job, thread) -> i32`: claims and runs chunks until none are left; returns
 * `chunksRun << 1 | finishedLast`, where finishedLast = 1 if this call finished the job's
 * last chunk (so a worker knows to wake a waiting caller).
 * `kinds[k]` is a `(job, chunk, thread)` function run for chunks of jobs of kind `k`;
 * `thread` (0 for the caller, 1.. for workers) picks the thread's own scratch memory.
 */
export function emitRunJob(mb: ModuleBuilder, kinds: readonly FunctionBuilder[]): FunctionBuilder {
  const fn = mb.function("run_job", [ValType.i32, ValType.i32], [ValType.i32]);
  const c = fn.body;
  const [jobPtr, threadIndex] = fn.params;
  const job = get(jobPtr);
  const v = c.local();
  const next = c.local();
  const n = c.local();
  const finishedLast = c.local();
  const ran = c.local();
  c.while(i32(1), (loop) => {
    c.set(v, i32_atomic_load(job, JobField.work));
    c.set(next, i32_and(get(v), i32(0xffff)));
    // read after the work word: if this is a new job its parameters are already in place
    c.set(n, i32_atomic_load(job, JobField.chunks));
    c.if(i32_ge_u(get(next), get(n)), () => loop.breakOut());
    c.if(i32_ne(i32_atomic_cmpxchg(job, get(v), i32_add(get(v), i32(1)), JobField.work), get(v)), () => loop.continueLoop());
    dispatch(c, i32_load(job, JobField.kind), kinds, job, get(next), get(threadIndex));
    c.set(ran, i32_add(get(ran), i32(2)));
    c.if(i32_eq(i32_atomic_rmw_add(job, i32(1), JobField.done), i32_add(get(n), i32(-1))), () => c.set(finishedLast, i32(1)));
  });
  c.returnValue(i32_or(get(ran), get(finishedLast)));
  return fn;
}

/** `kinds[kind](job, chunk, thread)` as a chain of ifs (there are only a few kinds). */
function dispatch(c: Code, kind: Expr, kinds: readonly FunctionBuilder[], job: Expr, chunk: Expr, thread: Expr): void {
  kinds.forEach((fn, k) => {
    c.if(i32_eq(kind, i32(k)), () => c.call(fn, job, chunk, thread));
  });
}
