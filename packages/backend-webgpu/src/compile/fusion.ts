/**
 * Elementwise fusion of a recorded program. A chain of elementwise calls whose intermediate
 * results are read once, by the next link, becomes one kernel that keeps the intermediates in
 * registers: bias + tanh, the tanh gradient's `dy * (1 - y²)`, an SGD update `p - lr * g` written
 * straight into the parameter. Fewer dispatches (host work) and fewer passes over memory (GPU work).
 *
 * A producer P (unary, binary, where, or a copy into a whole buffer) is folded into the one call C
 * that reads its output t when:
 * - t is one of the program's own buffers (not an argument, state or result: nothing else sees it),
 *   C reads it once, through the identity view (C's shape, contiguous), and nothing else reads it
 *   before it is written again;
 * - C is itself elementwise, and no call between P and C writes a buffer P's expression reads;
 * - where C's output is also read by the expression (a parameter updated in place), every such
 *   read is at the element being written (identity views).
 */
import { type BackendBuffer, type BinaryOp, type DType, KERNEL_OUTPUT_ARG, type ProgramCall, type StridedView, type UnaryOp } from "../contract.js";

/** An elementwise expression over the input views of a fused call. */
export type FusedExpr =
  | { readonly k: "in"; readonly i: number; readonly dtype: DType }
  | { readonly k: "unary"; readonly fn: UnaryOp; readonly x: FusedExpr; readonly dtype: DType }
  | { readonly k: "binary"; readonly fn: BinaryOp; readonly a: FusedExpr; readonly b: FusedExpr; readonly dtype: DType }
  | { readonly k: "where"; readonly c: FusedExpr; readonly a: FusedExpr; readonly b: FusedExpr; readonly dtype: DType }
  | { readonly k: "cast"; readonly x: FusedExpr; readonly dtype: DType };

/** Several elementwise calls as one: `out` (contiguous, `shape`) = `expr` over `inputs`. */
export interface FusedCall {
  readonly op: "fused";
  readonly shape: readonly number[];
  readonly inputs: readonly StridedView[];
  readonly out: BackendBuffer;
  readonly expr: FusedExpr;
  /** How many calls it replaces. */
  readonly calls: number;
}

/** A call of a fused program. */
export type FusedProgramCall = ProgramCall | FusedCall;

/** Distinct buffers a fused kernel may bind (the output included), within WebGPU's guaranteed 8. */
const MAX_BUFFERS = 8;

function isContiguousFull(v: StridedView, shape: readonly number[]): boolean {
  if (v.offset !== 0 || v.shape.length !== shape.length) return false;
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (v.shape[d] !== shape[d]) return false;
    if (shape[d] !== 1 && v.strides[d] !== expect) return false;
    expect *= shape[d]!;
  }
  return expect === v.buffer.size;
}

/** The call as an expression over its own views, or null when it is not elementwise over a whole output. */
function asFused(c: FusedProgramCall): FusedCall | null {
  const leaf = (i: number, v: StridedView): FusedExpr => ({ k: "in", i, dtype: v.buffer.dtype });
  switch (c.op) {
    case "fused":
      return c;
    case "unary":
      return { op: "fused", shape: c.x.shape, inputs: [c.x], out: c.out, expr: { k: "unary", fn: c.fn, x: leaf(0, c.x), dtype: c.out.dtype }, calls: 1 };
    case "binary":
      return {
        op: "fused",
        shape: c.a.shape,
        inputs: [c.a, c.b],
        out: c.out,
        expr: { k: "binary", fn: c.fn, a: leaf(0, c.a), b: leaf(1, c.b), dtype: c.out.dtype },
        calls: 1,
      };
    case "where":
      return {
        op: "fused",
        shape: c.cond.shape,
        inputs: [c.cond, c.a, c.b],
        out: c.out,
        expr: { k: "where", c: leaf(0, c.cond), a: leaf(1, c.a), b: leaf(2, c.b), dtype: c.out.dtype },
        calls: 1,
      };
    case "copy":
      if (!isContiguousFull(c.dst, c.dst.shape)) return null;
      return {
        op: "fused",
        shape: c.dst.shape,
        inputs: [c.src],
        out: c.dst.buffer,
        expr: { k: "cast", x: leaf(0, c.src), dtype: c.dst.buffer.dtype },
        calls: 1,
      };
    default:
      return null;
  }
}

/** The buffers a call reads, once per operand. */
function readsOf(c: FusedProgramCall): BackendBuffer[] {
  switch (c.op) {
    case "fused":
      return c.inputs.map((v) => v.buffer);
    case "fill":
      return [];
    case "copy":
      return [c.src.buffer];
    case "unary":
      return [c.x.buffer];
    case "binary":
      return [c.a.buffer, c.b.buffer];
    case "where":
      return [c.cond.buffer, c.a.buffer, c.b.buffer];
    case "reduce":
      return [c.x];
    case "kernel": {
      const out = KERNEL_OUTPUT_ARG[c.name];
      const reads: BackendBuffer[] = [];
      c.args.forEach((a, i) => {
        if (i === out || !a || typeof a !== "object") return;
        if ("buffer" in a && "strides" in a) reads.push((a as StridedView).buffer);
        else if ("dtype" in a && "size" in a) reads.push(a as BackendBuffer);
      });
      return reads;
    }
  }
}

/** The buffer a call writes. */
function writeOf(c: FusedProgramCall): BackendBuffer {
  switch (c.op) {
    case "copy":
      return c.dst.buffer;
    case "kernel":
      return c.args[KERNEL_OUTPUT_ARG[c.name]] as BackendBuffer;
    default:
      return c.out;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * `producer` iterating over `shape` instead of its own (same size): possible when each input is
 * read whole and in order, or is one broadcast element; null otherwise.
 */
function reshaped(producer: FusedCall, shape: readonly number[]): FusedCall | null {
  if (sameShape(producer.shape, shape)) return producer;
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, x) => a * x, 1));
  const inputs: StridedView[] = [];
  for (const v of producer.inputs) {
    if (isContiguousFull(v, producer.shape)) inputs.push({ buffer: v.buffer, shape, strides, offset: 0 });
    else if (v.strides.every((s) => s === 0)) inputs.push({ buffer: v.buffer, shape, strides: shape.map(() => 0), offset: v.offset });
    else return null;
  }
  return { ...producer, shape, inputs };
}

/** Replaces input `t` of `consumer` (read through the identity view) by `producer`'s expression. */
function substitute(consumer: FusedCall, slot: number, producer: FusedCall): FusedCall {
  const inputs: StridedView[] = [];
  const index = new Map<number, number>();
  consumer.inputs.forEach((v, i) => {
    if (i === slot) return;
    index.set(i, inputs.length);
    inputs.push(v);
  });
  const offset = inputs.length;
  inputs.push(...producer.inputs);
  const shift = (e: FusedExpr): FusedExpr => (e.k === "in" ? { ...e, i: e.i + offset } : map(e, shift));
  const inner = shift(producer.expr);
  const rewrite = (e: FusedExpr): FusedExpr => (e.k === "in" ? (e.i === slot ? inner : { ...e, i: index.get(e.i)! }) : map(e, rewrite));
  return { op: "fused", shape: consumer.shape, inputs, out: consumer.out, expr: rewrite(consumer.expr), calls: consumer.calls + producer.calls };
}

function map(e: FusedExpr, f: (x: FusedExpr) => FusedExpr): FusedExpr {
  switch (e.k) {
    case "in":
      return e;
    case "unary":
    case "cast":
      return { ...e, x: f(e.x) };
    case "binary":
      return { ...e, a: f(e.a), b: f(e.b) };
    case "where":
      return { ...e, c: f(e.c), a: f(e.a), b: f(e.b) };
  }
}

/** Fuses elementwise chains of `calls`; `dynamic` buffers are seen outside the program. */
export function fuseElementwise(calls: readonly ProgramCall[], dynamic: ReadonlySet<BackendBuffer>): FusedProgramCall[] {
  const items: Array<FusedProgramCall | null> = [...calls];
  for (let i = 0; i < items.length; i++) {
    const p = items[i]!;
    const producer = asFused(p);
    if (!producer || dynamic.has(producer.out)) continue;
    const t = producer.out;
    // Its one reader before t is written again.
    let reader = -1;
    let readsOfT = 0;
    for (let k = i + 1; k < items.length; k++) {
      const c = items[k];
      if (!c) continue;
      const n = readsOf(c).filter((b) => b === t).length;
      if (n > 0) {
        readsOfT += n;
        if (reader >= 0) break;
        reader = k;
      }
      if (writeOf(c) === t) break;
    }
    if (reader < 0 || readsOfT !== 1) continue;
    const consumer = asFused(items[reader]!);
    if (!consumer) continue;
    const slot = consumer.inputs.findIndex((v) => v.buffer === t);
    if (!isContiguousFull(consumer.inputs[slot]!, consumer.shape)) continue;
    // The consumer may see t under another shape of the same size (a flat copy of a 4-D update).
    const moved = reshaped(producer, consumer.shape);
    if (!moved) continue;
    // The producer's operands must still hold their values when the consumer runs.
    const operands = new Set(producer.inputs.map((v) => v.buffer));
    let clobbered = false;
    for (let k = i + 1; k < reader && !clobbered; k++) {
      const c = items[k];
      if (c && operands.has(writeOf(c))) clobbered = true;
    }
    if (clobbered) continue;
    const fused = substitute(consumer, slot, moved);
    // In place (a parameter updated by its own kernel): only at the element being written.
    if (fused.inputs.some((v) => v.buffer === fused.out && !isContiguousFull(v, fused.shape))) continue;
    if (new Set([fused.out, ...fused.inputs.map((v) => v.buffer)]).size > MAX_BUFFERS) continue;
    items[reader] = fused;
    items[i] = null;
  }
  return items.filter((c): c is FusedProgramCall => c !== null);
}
