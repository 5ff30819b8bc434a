/**
 * `capture(fn)`: run a function's backend work once, then replay it. A training step with static
 * shapes makes the same backend calls on the same kinds of buffers every time (CUDA graphs,
 * tinygrad's TinyJit and jax's `jit` build on the same fact), so after two identical recordings
 * the calls are replayed directly: no op validation, autograd, tidy or kernel selection runs, and
 * a backend that can (`Backend.compile`) prepares the whole program once (fused, its dispatches
 * ready to submit). See docs/ARCHITECTURE.md.
 */
import type { Backend, BackendBuffer } from "../backend/contract.js";
import { findBackend, getBackend, listBackends } from "../backend/registry.js";
import { TesseraError } from "../errors.js";
import { tidy } from "../memory/scope.js";
import { Tensor, shareTensor } from "../tensor.js";
import { planProgram, sameWork } from "./program.js";
import { Recorder, type Recording } from "./recording.js";
import { type ResultView, Runner, StaleProgram } from "./runner.js";
import { captureHooks } from "./hooks.js";

/** Options of `capture`. */
export interface CaptureOptions {
  /**
   * Host values the function bakes in, such as a learning rate: the recording is reused while
   * `key()` returns the same value (`Object.is`) and made again when it changes. Example:
   * `{ key: () => optimizer.lr }`.
   */
  key?: () => unknown;
  /**
   * Host bookkeeping to do on each replayed call, in place of the JavaScript the replay skips:
   * a counter the function advances, say (`() => optimizer.stepCount++`).
   */
  onReplay?: () => void;
}

/** How a captured function has been running. */
export interface CaptureStats {
  /** Calls so far. */
  calls: number;
  /** Calls run as plain JavaScript (recording or not). */
  eager: number;
  /** Calls whose backend work was recorded. */
  recorded: number;
  /** Calls replayed from a recording. */
  replayed: number;
  /** Why the function runs eagerly for its current arguments, or null. */
  reason: string | null;
  /** Backend calls a replay makes (0 before the first program). */
  programCalls: number;
  /** Calls the recording made that a replay skips because nothing used their output. */
  droppedCalls: number;
  /** Whether the backend compiled the program (`Backend.compile`). */
  compiled: boolean;
  /** Bytes of the program's own buffers (temporaries, new state values, constants). */
  programBytes: number;
}

/** A function whose backend work is recorded and replayed; call it like the function. */
export type Captured<A extends Tensor[], R> = ((...args: A) => R) & {
  /** How it has been running (eager, recorded, replayed) and why. */
  stats(): CaptureStats;
  /** Drops the recordings: the next call records again (after changing what the function closes over). */
  invalidate(): void;
  /** Frees the programs' buffers. The function still works, eagerly, after that. */
  dispose(): void;
};

/** What `fn` may return: a tensor, an array of tensors, or nothing. */
// biome-ignore lint/suspicious/noConfusingVoidType: a function that returns nothing is typed `void`
export type CaptureResult = Tensor | readonly Tensor[] | undefined | void;

/** Recordings that cannot be replayed before `capture` gives up and stays eager for those arguments. */
const MAX_ATTEMPTS = 4;

/** Programs kept, by argument signature (shapes, dtypes, layouts); the least recently used goes. */
const MAX_PROGRAMS = 4;

/** One argument signature's state. */
interface Entry {
  key: unknown;
  /** The last recording, waiting for a second identical one. */
  previous: { recording: Recording; args: BackendBuffer[] } | null;
  /** Recordings made that did not lead to a program. */
  attempts: number;
  runner: Runner | null;
  /** Set when this signature runs eagerly for good. */
  reason: string | null;
}

function returnedTensors(value: unknown): Tensor[] {
  if (value === undefined) return [];
  if (value instanceof Tensor) return [value];
  if (Array.isArray(value) && value.every((v) => v instanceof Tensor)) return [...value];
  throw new TesseraError("capture", `the function must return a tensor, an array of tensors or nothing, got ${value === null ? "null" : typeof value}`);
}

function rebuild(value: unknown, tensors: Tensor[]): unknown {
  if (value === undefined) return undefined;
  return value instanceof Tensor ? tensors[0] : tensors;
}

/** Fresh handles without gradient history, so that every call returns the same kind of tensors. */
function detach(tensors: Tensor[]): Tensor[] {
  return tensors.map((t) => {
    const d = shareTensor(t);
    t.dispose();
    return d;
  });
}

/** A number per backend instance: a program belongs to the instance it was recorded on. */
const backendIds = new WeakMap<Backend, number>();
let nextBackendId = 0;

function signature(backend: Backend, args: readonly Tensor[]): string {
  let id = backendIds.get(backend);
  if (id === undefined) backendIds.set(backend, (id = nextBackendId++));
  return args.map((t) => `${t.dtype}[${t.shape}]/${t.strides}+${t.offset}:${t.storage.buffer.size}`).join(" ") + `@${backend.name}#${id}`;
}

/**
 * Records what `fn` does on the backend and replays it on later calls with arguments of the same
 * shapes, dtypes and layouts. The first calls run normally while being recorded; once two
 * consecutive recordings agree, later calls replay them without running `fn`'s JavaScript.
 *
 * The replayed work is the recorded one. So:
 * - pass every tensor that changes from call to call as an argument; tensors the function reads
 *   without receiving them are baked in (a replay notices when they are replaced or disposed, and
 *   records again);
 * - tensors it `assign`s (parameters, an optimizer's state) carry their new values from call to
 *   call, as in eager mode;
 * - host values it uploads (a learning rate) are baked in too: name them in `options.key`, or call
 *   `invalidate()` after changing them. Values that change on every call (a step count) make the
 *   recordings disagree, and the function then simply runs eagerly;
 * - no JavaScript runs on a replayed call: host bookkeeping the function does (counters, logs)
 *   belongs in `options.onReplay`;
 * - it must not read values back (`data()`, `item()`), leave tensors alive that it does not
 *   return (clear gradients inside), or use a second backend: it then runs eagerly, and
 *   `stats().reason` says why.
 *
 * Results are new tensors without gradient history, owned by the caller.
 */
export function capture<A extends Tensor[], R extends CaptureResult>(fn: (...args: A) => R, options: CaptureOptions = {}): Captured<A, R> {
  const entries = new Map<string, Entry>();
  const stats = { calls: 0, eager: 0, recorded: 0, replayed: 0 };
  let lastEntry: Entry | null = null;
  let disposed = false;

  const drop = (sig: string) => {
    entries.get(sig)?.runner?.dispose();
    entries.delete(sig);
  };

  const eager = (args: A): R => {
    stats.eager++;
    const value = tidy(() => fn(...args));
    return rebuild(value, detach(returnedTensors(value))) as R;
  };

  const record = (entry: Entry, backend: Backend, args: A): R => {
    stats.eager++;
    stats.recorded++;
    const recorder = new Recorder(backend);
    const others = listBackends()
      .map((b) => findBackend(b.name))
      .filter((b): b is Backend => b !== undefined && b !== backend);
    captureHooks.recording = true;
    let value: R;
    try {
      value = recorder.record(others, () => tidy(() => fn(...args)));
    } finally {
      captureHooks.recording = false;
    }
    const tensors = returnedTensors(value);
    const rec = recorder.recording;
    const argBuffers = args.map((t) => t.storage.buffer);
    const resultBuffers = tensors.map((t) => t.storage.buffer);
    const plan = rec.unsupported ?? planProgram(rec, argBuffers, resultBuffers);
    if (typeof plan !== "string" && entry.previous && sameWork(entry.previous.recording, rec, entry.previous.args, argBuffers)) {
      const results = [...new Set(resultBuffers)];
      const views: ResultView[] = tensors.map((t) => ({
        result: results.indexOf(t.storage.buffer),
        shape: t.shape,
        strides: t.strides,
        offset: t.offset,
        dtype: t.dtype,
      }));
      entry.runner = new Runner(backend, plan, views, value === undefined ? "none" : value instanceof Tensor ? "tensor" : "array");
      entry.previous = null;
      entry.attempts = 0;
    } else if (++entry.attempts >= MAX_ATTEMPTS) {
      // A first call may differ (it creates an optimizer's state, say); a function that keeps
      // failing is run eagerly from now on.
      entry.reason =
        typeof plan === "string"
          ? plan
          : "it does different work on consecutive calls (host values that change every call, such as a step count, or a different sequence of ops)";
      entry.previous = null;
    } else {
      entry.previous = typeof plan === "string" ? null : { recording: rec, args: argBuffers };
    }
    return rebuild(value, detach(tensors)) as R;
  };

  const call = (...args: A): R => {
    stats.calls++;
    args.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new TesseraError("capture", `argument ${i} must be a Tensor, got ${t === null ? "null" : typeof t}`);
      t.assertLive("capture");
    });
    const backend = args[0]?.backend ?? getBackend();
    // captures inside a recording run eagerly (and are recorded)
    if (captureHooks.recording || disposed) return eager(args);
    const sig = signature(backend, args);
    const key = options.key?.();
    let entry = entries.get(sig);
    if (entry && !Object.is(entry.key, key)) {
      drop(sig);
      entry = undefined;
    }
    if (!entry) {
      entry = { key, previous: null, attempts: 0, runner: null, reason: null };
      entries.set(sig, entry);
      while (entries.size > MAX_PROGRAMS) drop(entries.keys().next().value!);
    } else {
      // Most recently used last.
      entries.delete(sig);
      entries.set(sig, entry);
    }
    lastEntry = entry;
    if (entry.reason) return eager(args);
    if (entry.runner) {
      try {
        const tensors = entry.runner.run(args);
        stats.replayed++;
        options.onReplay?.();
        return (entry.runner.returns === "none" ? undefined : entry.runner.returns === "tensor" ? tensors[0] : tensors) as R;
      } catch (e) {
        if (!(e instanceof StaleProgram)) throw e;
        entry.runner.dispose();
        entry.runner = null;
      }
    }
    return record(entry, backend, args);
  };

  const captured = call as Captured<A, R>;
  captured.stats = () => {
    const runner = lastEntry?.runner ?? null;
    return {
      ...stats,
      reason: lastEntry?.reason ?? null,
      programCalls: runner?.calls ?? 0,
      droppedCalls: runner?.dropped ?? 0,
      compiled: runner?.isCompiled ?? false,
      programBytes: runner?.bytes ?? 0,
    };
  };
  captured.invalidate = () => {
    for (const sig of [...entries.keys()]) drop(sig);
    lastEntry = null;
  };
  captured.dispose = () => {
    captured.invalidate();
    disposed = true;
  };
  return captured;
}
