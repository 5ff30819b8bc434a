/**
 * Recording a function's backend work. While a captured function runs, every call the core makes
 * on the backend (allocations, writes, primitives, heavy kernels, frees) is logged with its
 * buffers named by ids, then forwarded unchanged: the call runs eagerly and returns real results.
 * Calls a backend makes on itself from inside another call are forwarded without being logged.
 */
import type { Backend, BackendBuffer, BinaryOp, HeavyKernelName, ProgramCallOf, ReduceOp, StridedView, UnaryOp } from "../backend/contract.js";
import { KERNEL_OUTPUT_ARG } from "../backend/contract.js";
import type { DType, TypedArray } from "../dtype.js";
import { type AssignEvent, captureHooks } from "./hooks.js";

/** A buffer as the recording names it. */
export type BufferId = number;

/** A strided view onto a recorded buffer. */
export interface ViewRef {
  readonly id: BufferId;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** An argument of a heavy kernel: a buffer, a view, or a plain value (shapes, geometry, sizes). */
export type RecordedArg = { readonly buffer: BufferId } | { readonly view: ViewRef } | { readonly value: unknown };

/** One logged backend call. */
export type RecordedCall = ProgramCallOf<BufferId, ViewRef, RecordedArg>;

/** What the recording knows about one buffer. */
export interface RecordedBuffer {
  readonly id: BufferId;
  readonly size: number;
  readonly dtype: DType;
  /** Existed before the function ran (an argument, a parameter, a closed-over tensor). */
  readonly external: boolean;
  /** The buffer object during the recording. */
  readonly object: BackendBuffer;
  /** Freed before the function returned. */
  freed: boolean;
  /** Host values written into it at creation (a constant), copied. */
  data?: TypedArray;
  /** Read or written by a logged call. */
  used: boolean;
}

/** A tensor whose buffer `assign` replaced while the function ran. */
export interface RecordedAssign {
  readonly tensor: object;
  readonly from: BufferId;
  readonly to: BufferId;
}

/** Everything one run of a function did on its backend. */
export interface Recording {
  readonly backend: Backend;
  readonly calls: RecordedCall[];
  readonly buffers: Map<BufferId, RecordedBuffer>;
  readonly assigns: RecordedAssign[];
  /** Why this run cannot be replayed (it read values back, touched another backend...), or null. */
  unsupported: string | null;
}

/** The output buffer of a call. */
export function outputOf(call: RecordedCall): BufferId {
  switch (call.op) {
    case "copy":
      return call.dst.id;
    case "kernel": {
      const a = call.args[KERNEL_OUTPUT_ARG[call.name]];
      return a && "buffer" in a ? a.buffer : -1;
    }
    default:
      return call.out;
  }
}

/** The buffers a call reads. */
export function inputsOf(call: RecordedCall): BufferId[] {
  switch (call.op) {
    case "fill":
      return [];
    case "copy":
      return [call.src.id];
    case "unary":
      return [call.x.id];
    case "binary":
      return [call.a.id, call.b.id];
    case "where":
      return [call.cond.id, call.a.id, call.b.id];
    case "reduce":
      return [call.x];
    case "kernel": {
      const out = KERNEL_OUTPUT_ARG[call.name];
      const ids: BufferId[] = [];
      call.args.forEach((a, i) => {
        if (i === out) return;
        if ("buffer" in a) ids.push(a.buffer);
        else if ("view" in a) ids.push(a.view.id);
      });
      return ids;
    }
  }
}

function isView(v: unknown): v is StridedView {
  return typeof v === "object" && v !== null && "buffer" in v && "strides" in v && "shape" in v;
}

function isBuffer(v: unknown): v is BackendBuffer {
  return typeof v === "object" && v !== null && !Array.isArray(v) && "dtype" in v && "size" in v;
}

/** Logs the calls `backend` receives while `run` runs (see the file comment). */
export class Recorder {
  readonly recording: Recording;
  private readonly ids = new Map<BackendBuffer, BufferId>();
  private nextId = 0;
  /** Nesting of backend calls: only calls made by the core (depth 0) are logged. */
  private depth = 0;

  constructor(backend: Backend) {
    this.recording = { backend, calls: [], buffers: new Map(), assigns: [], unsupported: null };
  }

  /** Marks the recording as not replayable (the first reason wins). */
  refuse(reason: string): void {
    this.recording.unsupported ??= reason;
  }

  private newId(b: BackendBuffer, external: boolean): BufferId {
    const id = this.nextId++;
    this.ids.set(b, id);
    this.recording.buffers.set(id, { id, size: b.size, dtype: b.dtype, external, object: b, freed: false, used: false });
    return id;
  }

  /** The id of a buffer the function uses: a new external one when it was not allocated here. */
  private idOf(b: BackendBuffer): BufferId {
    return this.ids.get(b) ?? this.newId(b, true);
  }

  private view(v: StridedView): ViewRef {
    return { id: this.idOf(v.buffer), shape: v.shape, strides: v.strides, offset: v.offset };
  }

  private log(call: RecordedCall): void {
    const out = this.recording.buffers.get(outputOf(call));
    if (out?.external) this.refuse("it writes into a tensor that existed before it ran");
    for (const id of [...inputsOf(call), outputOf(call)]) {
      const b = this.recording.buffers.get(id);
      if (b) b.used = true;
    }
    this.recording.calls.push(call);
  }

  /** Logs one backend method call (arguments as the backend received them). */
  private observe(method: string, args: readonly unknown[], result: unknown): void {
    switch (method) {
      case "alloc":
        this.newId(result as BackendBuffer, false);
        return;
      case "free": {
        const b = args[0] as BackendBuffer;
        const id = this.idOf(b);
        this.recording.buffers.get(id)!.freed = true;
        this.ids.delete(b);
        return;
      }
      case "write": {
        const rb = this.recording.buffers.get(this.idOf(args[0] as BackendBuffer))!;
        if (rb.external || rb.used || rb.data) this.refuse("it writes host data into a buffer that was already in use");
        else rb.data = (args[1] as TypedArray).slice();
        return;
      }
      case "fill":
        this.log({ op: "fill", out: this.idOf(args[0] as BackendBuffer), value: args[1] as number });
        return;
      case "copy":
        this.log({ op: "copy", src: this.view(args[0] as StridedView), dst: this.view(args[1] as StridedView) });
        return;
      case "unary":
        this.log({ op: "unary", fn: args[0] as UnaryOp, x: this.view(args[1] as StridedView), out: this.idOf(args[2] as BackendBuffer) });
        return;
      case "binary":
        this.log({
          op: "binary",
          fn: args[0] as BinaryOp,
          a: this.view(args[1] as StridedView),
          b: this.view(args[2] as StridedView),
          out: this.idOf(args[3] as BackendBuffer),
        });
        return;
      case "where":
        this.log({
          op: "where",
          cond: this.view(args[0] as StridedView),
          a: this.view(args[1] as StridedView),
          b: this.view(args[2] as StridedView),
          out: this.idOf(args[3] as BackendBuffer),
        });
        return;
      case "reduce":
        this.log({
          op: "reduce",
          fn: args[0] as ReduceOp,
          x: this.idOf(args[1] as BackendBuffer),
          outer: args[2] as number,
          inner: args[3] as number,
          out: this.idOf(args[4] as BackendBuffer),
        });
        return;
      case "read":
      case "readSync":
      case "sync":
        this.refuse("it reads values back from the device (data(), item(), a synchronous read): a replay runs no JavaScript");
        return;
      case "dispose":
        this.refuse("it disposes the backend");
        return;
    }
  }

  private observeKernel(name: HeavyKernelName, args: readonly unknown[]): void {
    const recorded: RecordedArg[] = args.map((a) => (isView(a) ? { view: this.view(a) } : isBuffer(a) ? { buffer: this.idOf(a) } : { value: a }));
    this.log({ op: "kernel", name, args: recorded });
  }

  private onAssign(e: AssignEvent): void {
    const from = this.ids.get(e.from as BackendBuffer);
    const to = this.ids.get(e.to as BackendBuffer);
    // `from` was just released: when it was the last handle the buffer is already freed.
    const fromId = from ?? this.findFreed(e.from as BackendBuffer);
    if (fromId === undefined || to === undefined) {
      this.refuse("it assigns a tensor from a buffer this capture cannot follow");
      return;
    }
    this.recording.assigns.push({ tensor: e.tensor, from: fromId, to });
  }

  private findFreed(b: BackendBuffer): BufferId | undefined {
    let found: BufferId | undefined;
    for (const rb of this.recording.buffers.values()) if (rb.object === b) found = rb.id;
    return found;
  }

  /**
   * Runs `run` with `backend`'s methods (and heavy kernels) logging their calls, and `others`
   * (every other initialised backend) refusing the recording if they are used. Restores them all.
   */
  record<T>(others: readonly Backend[], run: () => T): T {
    const restore: Array<() => void> = [];
    const patch = (target: object, key: string, replacement: unknown) => {
      const own = Object.getOwnPropertyDescriptor(target, key);
      Object.defineProperty(target, key, { value: replacement, configurable: true, writable: true, enumerable: own?.enumerable ?? false });
      restore.push(() => {
        if (own) Object.defineProperty(target, key, own);
        else delete (target as Record<string, unknown>)[key];
      });
    };
    const backend = this.recording.backend as unknown as Record<string, unknown>;
    const methods = ["alloc", "free", "write", "fill", "copy", "unary", "binary", "where", "reduce", "read", "readSync", "sync", "dispose"];
    for (const name of methods) {
      const original = backend[name];
      if (typeof original !== "function") continue;
      patch(backend, name, (...args: unknown[]) => {
        this.depth++;
        let result: unknown;
        try {
          result = original.apply(backend, args);
        } finally {
          this.depth--;
        }
        if (this.depth === 0) this.observe(name, args, result);
        return result;
      });
    }
    const kernels = backend.kernels as Record<string, unknown> | undefined;
    if (kernels) {
      const wrapped: Record<string, unknown> = {};
      for (const name of Object.keys(kernels)) {
        const original = kernels[name];
        if (typeof original !== "function") continue;
        wrapped[name] = (...args: unknown[]) => {
          this.depth++;
          let result: unknown;
          try {
            result = original.apply(kernels, args);
          } finally {
            this.depth--;
          }
          if (this.depth === 0) this.observeKernel(name as HeavyKernelName, args);
          return result;
        };
      }
      patch(backend, "kernels", wrapped);
    }
    for (const other of others) {
      const o = other as unknown as Record<string, unknown>;
      for (const name of [...methods, "kernels"]) {
        const original = o[name];
        if (name === "kernels" || typeof original !== "function") continue;
        patch(o, name, (...args: unknown[]) => {
          this.refuse(`it uses a second backend ('${other.name}')`);
          return (original as (...a: unknown[]) => unknown).apply(other, args);
        });
      }
    }
    const previous = captureHooks.onAssign;
    captureHooks.onAssign = (e) => this.onAssign(e);
    try {
      return run();
    } finally {
      captureHooks.onAssign = previous;
      for (const undo of restore.reverse()) undo();
    }
  }
}
