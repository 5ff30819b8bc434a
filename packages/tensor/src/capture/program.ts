/**
 * From a recording to a program that can run again: which buffers are the function's inputs,
 * the state it carries from call to call, its results, its constants and its temporaries; which
 * calls matter (those whose output reaches a result or a state); and a plan that gives every
 * temporary a buffer of the program's own, shared between temporaries whose lifetimes do not
 * overlap. Also: whether two recordings did the same work (the condition for replaying one).
 */
import type { BackendBuffer, StridedView } from "../backend/contract.js";
import type { DType, TypedArray } from "../dtype.js";
import { contiguousStrides } from "../shape.js";
import { type BufferId, type RecordedCall, type Recording, type ViewRef, inputsOf, outputOf } from "./recording.js";

/** Where a program call's buffer comes from when the program runs. */
export type Slot =
  /** The buffer of argument `index` of this call. */
  | { readonly kind: "arg"; readonly index: number }
  /** The current buffer of state tensor `index` (read by the program, overwritten at its end). */
  | { readonly kind: "state"; readonly index: number }
  /** A fresh buffer for result `index`. */
  | { readonly kind: "result"; readonly index: number }
  /** A buffer of the program: a temporary, a state's new value, or a constant. */
  | { readonly kind: "own"; readonly index: number }
  /** A tensor the function reads without receiving it (baked in: the same buffer every run). */
  | { readonly kind: "baked"; readonly buffer: BackendBuffer };

/** A buffer the program owns; `constant` ones are written once, before the first run. */
export interface OwnBuffer {
  readonly size: number;
  readonly dtype: DType;
  readonly constant?: { readonly data: TypedArray } | { readonly fill: number };
}

/** A tensor the function assigns: its current buffer is read, and overwritten with its new value. */
export interface StateSpec {
  readonly tensor: object;
}

/** A result's buffer (a fresh one per run) and the view the returned tensor has onto it. */
export interface ResultSpec {
  readonly size: number;
  readonly dtype: DType;
}

/** A program ready to run: calls over slots. */
export interface Plan {
  readonly calls: readonly RecordedCall[];
  /** Slot of every buffer id the calls use. */
  readonly slots: ReadonlyMap<BufferId, Slot>;
  readonly own: readonly OwnBuffer[];
  readonly states: readonly StateSpec[];
  /** Buffers of results, by the result's position; results sharing a buffer share an entry. */
  readonly results: readonly ResultSpec[];
  /** Arguments the calls read, by position. */
  readonly argsUsed: readonly number[];
  /** Baked buffers (the caller holds on to them). */
  readonly baked: readonly BackendBuffer[];
  /** Calls of the recording dropped because nothing used their output. */
  readonly dropped: number;
}

/** A returned tensor as the recording saw it. */
export interface ReturnedView {
  readonly buffer: BackendBuffer;
}

function byObject(rec: Recording): Map<BackendBuffer, BufferId> {
  const m = new Map<BackendBuffer, BufferId>();
  for (const b of rec.buffers.values()) m.set(b.object, b.id);
  return m;
}

/**
 * Plans the replay of `rec`, recorded with arguments whose buffers are `argBuffers`, returning
 * tensors on `returned` buffers. A string says why it cannot be replayed.
 */
export function planProgram(rec: Recording, argBuffers: readonly BackendBuffer[], returned: readonly BackendBuffer[]): Plan | string {
  const ids = byObject(rec);
  const buffers = rec.buffers;
  const slots = new Map<BufferId, Slot>();

  // Arguments.
  const argsUsed: number[] = [];
  argBuffers.forEach((b, index) => {
    const id = ids.get(b);
    if (id === undefined || !buffers.get(id)!.external) return;
    if (!slots.has(id)) {
      slots.set(id, { kind: "arg", index });
      argsUsed.push(index);
    }
  });

  // State: each assigned tensor's first buffer is an input, its last one the new value.
  const stateOf = new Map<object, { from: BufferId; to: BufferId }>();
  for (const a of rec.assigns) {
    const s = stateOf.get(a.tensor);
    if (s) s.to = a.to;
    else stateOf.set(a.tensor, { from: a.from, to: a.to });
  }
  const stateFrom: BufferId[] = [];
  const stateTo = new Map<BufferId, number>();
  const stateTensors: object[] = [];
  for (const [tensor, { from, to }] of stateOf) {
    const f = buffers.get(from)!;
    const t = buffers.get(to)!;
    if (!f.external) continue; // created by the function itself: an ordinary temporary or result
    if (slots.get(from)?.kind === "arg") return "it assigns one of its arguments";
    if (t.external) return "it assigns a tensor the buffer of another tensor that existed before it ran";
    if (t.freed) return "it assigns a tensor and then frees the assigned value";
    stateFrom.push(from);
    stateTo.set(to, stateTensors.length);
    slots.set(from, { kind: "state", index: stateTensors.length });
    stateTensors.push(tensor);
  }

  // Results.
  const results: ResultSpec[] = [];
  for (const b of returned) {
    const id = ids.get(b);
    const rb = id === undefined ? undefined : buffers.get(id)!;
    if (!rb || rb.external || rb.freed) return "it returns a tensor it did not create";
    if (stateTo.has(rb.id)) return "it returns a tensor it also assigns";
    if (slots.has(rb.id)) continue;
    if (rb.data) return "it returns a tensor made from host values";
    slots.set(rb.id, { kind: "result", index: results.length });
    results.push({ size: rb.size, dtype: rb.dtype });
  }

  // What it leaves behind, and what it frees.
  let leaked = 0;
  for (const b of buffers.values()) {
    if (b.external && b.freed && !stateFrom.includes(b.id)) return "it disposes a tensor it did not create";
    if (!b.external && !b.freed && !slots.has(b.id) && !stateTo.has(b.id)) leaked++;
  }
  if (leaked > 0) {
    return `it leaves ${leaked} tensor${leaked === 1 ? "" : "s"} alive that it neither returns nor assigns (gradients left in .grad, say: clear them inside, e.g. optimizer.zeroGrad())`;
  }

  // Which calls matter: those whose output reaches a result or a new state value.
  const writers = new Map<BufferId, number>();
  for (const c of rec.calls) writers.set(outputOf(c), (writers.get(outputOf(c)) ?? 0) + 1);
  const needed = new Set<BufferId>([...slots.keys()].filter((id) => slots.get(id)!.kind === "result"));
  for (const id of stateTo.keys()) needed.add(id);
  const kept: RecordedCall[] = [];
  for (let i = rec.calls.length - 1; i >= 0; i--) {
    const c = rec.calls[i]!;
    if (!needed.has(outputOf(c))) continue;
    kept.push(c);
    for (const id of inputsOf(c)) needed.add(id);
  }
  kept.reverse();

  // Constants: host values, or a single fill, never written by anything else.
  const own: OwnBuffer[] = [];
  const constantKey = new Map<string, number>();
  const calls: RecordedCall[] = [];
  const constantIndex = (key: string, spec: OwnBuffer) => {
    let index = constantKey.get(key);
    if (index === undefined) {
      index = own.length;
      own.push(spec);
      constantKey.set(key, index);
    }
    return index;
  };
  for (const b of buffers.values()) {
    if (!b.data || !needed.has(b.id)) continue;
    if (writers.has(b.id)) return "it writes host data into a buffer that a kernel also writes";
    const key = `${b.dtype}:${b.size}:${Array.from(new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength)).join(",")}`;
    slots.set(b.id, { kind: "own", index: constantIndex(key, { size: b.size, dtype: b.dtype, constant: { data: b.data } }) });
  }
  for (const c of kept) {
    const out = outputOf(c);
    if (c.op === "fill" && writers.get(out) === 1 && !slots.has(out) && !stateTo.has(out)) {
      const b = buffers.get(out)!;
      slots.set(out, {
        kind: "own",
        index: constantIndex(`${b.dtype}:${b.size}:fill:${Object.is(c.value, -0) ? "-0" : c.value}`, {
          size: b.size,
          dtype: b.dtype,
          constant: { fill: c.value },
        }),
      });
      continue;
    }
    calls.push(c);
  }

  // Baked: tensors read without being passed in or assigned.
  const baked: BackendBuffer[] = [];
  for (const c of calls) {
    for (const id of [...inputsOf(c), outputOf(c)]) {
      if (slots.has(id)) continue;
      const b = buffers.get(id)!;
      if (!b.external) continue;
      slots.set(id, { kind: "baked", buffer: b.object });
      baked.push(b.object);
    }
  }

  // Each state tensor's buffer receives its new value as soon as nothing reads its old one and the
  // new one is complete (not at the end of the run): the copy then follows the update that
  // computed it, and a backend can fuse the two (an SGD update written in place).
  const copies: Array<{ at: number; call: RecordedCall }> = [];
  for (let index = 0; index < stateTensors.length; index++) {
    const from = stateFrom[index]!;
    const to = [...stateTo].find(([, k]) => k === index)![0];
    let at = 0;
    calls.forEach((c, i) => {
      if (outputOf(c) === to || inputsOf(c).includes(from)) at = i + 1;
    });
    if (!calls.some((c) => outputOf(c) === to)) return "it assigns a tensor a value no kernel computes";
    const size = buffers.get(from)!.size;
    const view = (id: BufferId): ViewRef => ({ id, shape: [size], strides: contiguousStrides([size]), offset: 0 });
    copies.push({ at, call: { op: "copy", src: view(to), dst: view(from) } });
  }
  for (const { at, call } of copies.sort((a, b) => b.at - a.at)) calls.splice(at, 0, call);

  // Temporaries and new state values: own buffers, reused once their last use has passed.
  const last = new Map<BufferId, number>();
  calls.forEach((c, i) => {
    for (const id of [...inputsOf(c), outputOf(c)]) last.set(id, i);
  });
  const free = new Map<string, number[]>();
  for (let i = 0; i < calls.length; i++) {
    const c = calls[i]!;
    const out = outputOf(c);
    if (inputsOf(c).some((id) => !slots.has(id))) return "it reads a buffer that nothing wrote";
    if (!slots.has(out)) {
      const b = buffers.get(out)!;
      const key = `${b.dtype}:${b.size}`;
      const index = free.get(key)?.pop() ?? own.push({ size: b.size, dtype: b.dtype }) - 1;
      slots.set(out, { kind: "own", index });
    }
    // Buffers whose last use is this call go back after its output was placed (a kernel must not
    // write over the operands it reads).
    for (const id of new Set([...inputsOf(c), out])) {
      const slot = slots.get(id)!;
      if (last.get(id) !== i || slot.kind !== "own" || own[slot.index]!.constant) continue;
      const b = buffers.get(id)!;
      const key = `${b.dtype}:${b.size}`;
      const list = free.get(key) ?? [];
      list.push(slot.index);
      free.set(key, list);
    }
  }
  const states: StateSpec[] = stateTensors.map((tensor) => ({ tensor }));

  return { calls, slots, own, states, results, argsUsed, baked, dropped: rec.calls.length - kept.length };
}

/** A view of `ref` onto `buffer`. */
export function viewOn(buffer: BackendBuffer, ref: ViewRef): StridedView {
  return { buffer, shape: ref.shape, strides: ref.strides, offset: ref.offset };
}

function sameBytes(a: TypedArray, b: TypedArray): boolean {
  if (a.byteLength !== b.byteLength || a.constructor !== b.constructor) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * Whether two recordings did the same work: the same calls on the same shapes with the same
 * values, buffers in the same roles, the same host data, the same tensors assigned and the same
 * closed-over tensors read. Argument and state buffers may differ; everything else may not.
 */
export function sameWork(a: Recording, b: Recording, argBuffersA: readonly BackendBuffer[], argBuffersB: readonly BackendBuffer[]): boolean {
  if (a.backend !== b.backend || a.calls.length !== b.calls.length || a.buffers.size !== b.buffers.size) return false;
  if (JSON.stringify(a.calls) !== JSON.stringify(b.calls)) return false;
  if (a.assigns.length !== b.assigns.length) return false;
  const assignedFrom = new Set<BufferId>();
  for (let i = 0; i < a.assigns.length; i++) {
    const x = a.assigns[i]!;
    const y = b.assigns[i]!;
    if (x.tensor !== y.tensor || x.from !== y.from || x.to !== y.to) return false;
    assignedFrom.add(x.from);
  }
  const argA = new Set(argBuffersA);
  const argB = new Set(argBuffersB);
  for (const [id, x] of a.buffers) {
    const y = b.buffers.get(id);
    if (!y || x.size !== y.size || x.dtype !== y.dtype || x.external !== y.external || x.freed !== y.freed) return false;
    if (!!x.data !== !!y.data || (x.data && !sameBytes(x.data, y.data!))) return false;
    if (argA.has(x.object) !== argB.has(y.object)) return false;
    // A closed-over tensor must be the very same one: replay reads the buffer it saw.
    if (x.external && !argA.has(x.object) && !assignedFrom.has(id) && x.object !== y.object) return false;
  }
  return true;
}
