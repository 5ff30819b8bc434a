/**
 * Runs a planned program (program.ts) again: binds the call's arguments, the state tensors'
 * current buffers and fresh result buffers, then hands the calls to the backend, compiled when
 * the backend can compile (`Backend.compile`), else one by one. No op, autograd or tidy code runs.
 */
import type { Backend, BackendBuffer, BackendProgram, CompiledProgram, ProgramCall, StridedView } from "../backend/contract.js";
import type { DType, TypedArray } from "../dtype.js";
import { TesseraError } from "../errors.js";
import { Storage, storageOf } from "../memory/storage.js";
import { contiguousCopy } from "../ops/elementwise.js";
import { Tensor } from "../tensor.js";
import type { Plan, Slot } from "./program.js";
import type { BufferId, RecordedCall, ViewRef } from "./recording.js";

/** A returned tensor: which result buffer it views, and how. */
export interface ResultView {
  readonly result: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
}

/** Makes `call` on `backend`, as the core made it when the program was recorded. */
export function runProgramCall(backend: Backend, call: ProgramCall): void {
  switch (call.op) {
    case "fill":
      backend.fill(call.out, call.value);
      return;
    case "copy":
      backend.copy(call.src, call.dst);
      return;
    case "unary":
      backend.unary(call.fn, call.x, call.out);
      return;
    case "binary":
      backend.binary(call.fn, call.a, call.b, call.out);
      return;
    case "where":
      backend.where(call.cond, call.a, call.b, call.out);
      return;
    case "reduce":
      backend.reduce(call.fn, call.x, call.outer, call.inner, call.out);
      return;
    case "kernel": {
      const kernel = backend.kernels?.[call.name] as ((...args: unknown[]) => void) | undefined;
      if (!kernel) throw new TesseraError("capture", `the '${backend.name}' backend has no '${call.name}' kernel any more`);
      kernel.apply(backend.kernels, call.args as unknown[]);
    }
  }
}

/** What a replay found that makes the program unusable: the caller records the function again. */
export class StaleProgram extends Error {}

/** A program of one captured function, ready to run. */
export class Runner {
  private readonly own: Storage[];
  private readonly baked: Storage[];
  private compiled: CompiledProgram | null = null;
  private compileTried = false;
  /** Why the backend's compile failed (the calls then run one by one). */
  compileError: string | null = null;

  constructor(
    private readonly backend: Backend,
    private readonly plan: Plan,
    private readonly views: readonly ResultView[],
    /** What the function returned: one tensor, an array of them, or nothing. */
    readonly returns: "tensor" | "array" | "none",
  ) {
    this.baked = plan.baked.map((b) => storageOf(b)!.retain());
    this.own = plan.own.map((o) => {
      const buffer = backend.alloc(o.size, o.dtype);
      const storage = new Storage(backend, buffer);
      if (o.constant && "data" in o.constant) backend.write(buffer, o.constant.data.slice());
      else if (o.constant) backend.fill(buffer, o.constant.fill);
      return storage;
    });
  }

  /** Backend calls per run. */
  get calls(): number {
    return this.plan.calls.length;
  }

  /** Calls of the recording that a run skips (nothing used their output). */
  get dropped(): number {
    return this.plan.dropped;
  }

  /** Whether the backend compiled the program. */
  get isCompiled(): boolean {
    return this.compiled !== null;
  }

  /** Bytes of the program's own buffers. */
  get bytes(): number {
    return this.own.reduce((s, o) => s + o.bytes, 0);
  }

  /** Runs the program on `args`; returns the result tensors (one per returned tensor). */
  run(args: readonly Tensor[]): Tensor[] {
    // A closed-over tensor that nothing but this program holds any more was replaced or disposed.
    if (this.baked.some((s) => s.refCount <= 1)) throw new StaleProgram("a tensor it reads without receiving it was replaced or disposed");
    const states = this.plan.states.map(({ tensor }) => tensor as Tensor);
    for (const t of states) {
      if (t.isDisposed) throw new StaleProgram("a tensor it assigns was disposed");
      // The new value is written into the tensor's buffer: another view of it must keep the old one.
      if (t.storage.refCount > 1 || !t.isContiguous) {
        const own = contiguousCopy(t);
        t.assign(own);
        own.dispose();
      }
    }
    const results = this.plan.results.map((r) => new Storage(this.backend, this.backend.alloc(r.size, r.dtype)));
    const dynamic: BackendBuffer[] = [
      ...this.plan.argsUsed.map((k) => args[k]!.storage.buffer),
      ...states.map((t) => t.storage.buffer),
      ...results.map((s) => s.buffer),
    ];
    try {
      if (!this.compileTried) this.compile(dynamic);
      if (this.compiled) this.compiled.run(dynamic);
      else this.interpret(dynamic);
    } catch (e) {
      for (const s of results) s.release();
      throw e;
    }
    const out = this.views.map((v) => new Tensor(results[v.result]!.retain(), v.shape, v.dtype, v.strides, v.offset));
    for (const s of results) s.release();
    return out;
  }

  /** The buffer behind `slot` for a run with `dynamic` buffers (args, then states, then results). */
  private resolve(slot: Slot, dynamic: readonly BackendBuffer[]): BackendBuffer {
    const p = this.plan;
    switch (slot.kind) {
      case "arg":
        return dynamic[p.argsUsed.indexOf(slot.index)]!;
      case "state":
        return dynamic[p.argsUsed.length + slot.index]!;
      case "result":
        return dynamic[p.argsUsed.length + p.states.length + slot.index]!;
      case "own":
        return this.own[slot.index]!.buffer;
      case "baked":
        return slot.buffer;
    }
  }

  /** The program's calls with the buffers of a run. */
  private bind(dynamic: readonly BackendBuffer[]): ProgramCall[] {
    const buf = (id: BufferId) => this.resolve(this.plan.slots.get(id)!, dynamic);
    const view = (v: ViewRef): StridedView => ({ buffer: buf(v.id), shape: v.shape, strides: v.strides, offset: v.offset });
    return this.plan.calls.map((c: RecordedCall): ProgramCall => {
      switch (c.op) {
        case "fill":
          return { op: "fill", out: buf(c.out), value: c.value };
        case "copy":
          return { op: "copy", src: view(c.src), dst: view(c.dst) };
        case "unary":
          return { op: "unary", fn: c.fn, x: view(c.x), out: buf(c.out) };
        case "binary":
          return { op: "binary", fn: c.fn, a: view(c.a), b: view(c.b), out: buf(c.out) };
        case "where":
          return { op: "where", cond: view(c.cond), a: view(c.a), b: view(c.b), out: buf(c.out) };
        case "reduce":
          return { op: "reduce", fn: c.fn, x: buf(c.x), outer: c.outer, inner: c.inner, out: buf(c.out) };
        case "kernel":
          return { op: "kernel", name: c.name, args: c.args.map((a) => ("buffer" in a ? buf(a.buffer) : "view" in a ? view(a.view) : a.value)) };
      }
    });
  }

  private compile(dynamic: readonly BackendBuffer[]): void {
    this.compileTried = true;
    if (!this.backend.compile) return;
    const constants = new Map<BackendBuffer, TypedArray>();
    this.plan.own.forEach((o, i) => {
      if (o.constant && "data" in o.constant) constants.set(this.own[i]!.buffer, o.constant.data);
    });
    const program: BackendProgram = { calls: this.bind(dynamic), dynamic, constants };
    try {
      this.compiled = this.backend.compile(program);
    } catch (e) {
      // Still correct, only slower: the calls run one by one.
      this.compileError = e instanceof Error ? e.message : String(e);
    }
  }

  private interpret(dynamic: readonly BackendBuffer[]): void {
    for (const c of this.bind(dynamic)) runProgramCall(this.backend, c);
  }

  /** Frees the program's buffers and lets go of the tensors it baked in. */
  dispose(): void {
    this.compiled?.dispose();
    this.compiled = null;
    for (const s of this.own) s.release();
    for (const s of this.baked) s.release();
    this.own.length = 0;
    this.baked.length = 0;
  }
}
