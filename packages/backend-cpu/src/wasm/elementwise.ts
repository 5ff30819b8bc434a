/**
 * Generator of the float32 elementwise and row-sum kernels.
 *
 * A training step runs activations, their gradients, bias additions and optimizer updates
 * over every activation and parameter; in JavaScript those loops cost as much as the
 * convolutions. Here each op is a SIMD loop over runs of elements:
 *
 * - `unary_<op>(n, x, sx, out)`: out[i] = op(x[i·sx]), n floats into a contiguous out;
 * - `binary_<op>(n, a, sa, b, sb, out)`: out[i] = a[i·sa] op b[i·sb]; strides 0 (a broadcast
 *   scalar) and 1 run as vectors, any others one element at a time;
 * - `sum_rows(rows, n, x, out)`: out[r] = Σ x[r·n + i], in f32 vectors over blocks of 64
 *   elements whose partial sums are added in f64, so long rows keep their precision.
 *
 * The last n mod 4 elements, and strided elements, go through the same vector code one lane at
 * a time, so every element's result is the same whichever part of a run, which view, or which
 * thread computes it. Address comparisons are unsigned: the memory may grow past 2 GiB.
 * Unary and binary ops over long runs also exist as job chunks, so two threads can share
 * them (chunks are ranges of elements: any split gives the same bits).
 */
import {
  type Code,
  type Expr,
  type FunctionBuilder,
  f32_demote_f64,
  f32x4_abs,
  f32x4_add,
  f32x4_const,
  f32x4_div,
  f32x4_extract_lane,
  f32x4_gt,
  f32x4_max,
  f32x4_min,
  f32x4_mul,
  f32x4_ne,
  f32x4_neg,
  f32x4_sqrt,
  f32x4_sub,
  f64,
  f64_add,
  f64_promote_f32,
  get,
  i32,
  i32_add,
  i32_and,
  i32_eq,
  i32_lt_u,
  i32_min_s,
  i32_mul,
  i32_shl,
  i32_sub,
  type Local,
  type ModuleBuilder,
  select,
  v128_bitselect,
  v128_load,
  v128_load32_splat,
  v128_or,
  ValType,
} from "./emitter.js";
import { jobParam } from "./job.js";
import { emitExp, emitSigmoid, emitTanh, VectorTemps } from "./simd-math.js";

const I = ValType.i32;
const V = ValType.v128;

/** Unary ops with a SIMD kernel, in the order of their job op codes. */
export const WASM_UNARY = ["neg", "abs", "sqrt", "exp", "tanh", "sigmoid", "relu"] as const;
/** Binary ops with a SIMD kernel, in the order of their job op codes. */
export const WASM_BINARY = ["add", "sub", "mul", "div", "maximum", "minimum"] as const;
export type WasmUnaryOp = (typeof WASM_UNARY)[number];
export type WasmBinaryOp = (typeof WASM_BINARY)[number];

/** Job parameter slots of an elementwise job: a flat run of n elements cut into chunks. */
export const ElementwiseParam = {
  /** Index of the op in WASM_UNARY or WASM_BINARY. */
  op: 0,
  n: 1,
  a: 2,
  sa: 3,
  b: 4,
  sb: 5,
  out: 6,
  perChunk: 7,
} as const;

/** Writes `out = op(x)` for one vector. */
type UnaryBody = (c: Code, out: Local, x: Expr, t: VectorTemps) => void;

const UNARY_BODY: Record<WasmUnaryOp, UnaryBody> = {
  neg: (c, out, x) => c.set(out, f32x4_neg(x)),
  abs: (c, out, x) => c.set(out, f32x4_abs(x)),
  sqrt: (c, out, x) => c.set(out, f32x4_sqrt(x)),
  exp: emitExp,
  tanh: emitTanh,
  sigmoid: emitSigmoid,
  // x where x > 0 or x is NaN, else 0 (as the reference: NaN propagates)
  relu: (c, out, x, t) => {
    const v = t.at(0);
    c.set(v, x);
    c.set(out, v128_bitselect(get(v), f32x4_const(0), v128_or(f32x4_gt(get(v), f32x4_const(0)), f32x4_ne(get(v), get(v)))));
  },
};

/** `a op b` for one vector; maximum/minimum propagate NaN like the reference. */
const BINARY_BODY: Record<WasmBinaryOp, (a: Expr, b: Expr) => Expr> = {
  add: f32x4_add,
  sub: f32x4_sub,
  mul: f32x4_mul,
  div: f32x4_div,
  maximum: f32x4_max,
  minimum: f32x4_min,
};

/** The functions this generator adds. */
export interface ElementwiseFunctions {
  unaryChunk: FunctionBuilder;
  binaryChunk: FunctionBuilder;
}

/** Adds every `unary_<op>`, `binary_<op>`, `sum_rows` and the two job chunk functions. */
export function emitElementwise(mb: ModuleBuilder): ElementwiseFunctions {
  const unary = WASM_UNARY.map((op) => emitUnary(mb, op));
  const binary = WASM_BINARY.map((op) => emitBinary(mb, op));
  emitSumRows(mb);
  return { unaryChunk: emitChunk(mb, "unary_chunk", unary, false), binaryChunk: emitChunk(mb, "binary_chunk", binary, true) };
}

/**
 * Loops `vector` over i = 0, 4, 8, ... while four elements remain, then `lane` over the
 * rest one at a time; both get the byte offset of element i.
 */
function runs(c: Code, n: Local, vector: (offset: Expr) => void, lane: (offset: Expr) => void): void {
  const i = c.local();
  const end = c.local();
  c.set(end, i32_shl(i32_sub(get(n), i32_and(get(n), i32(3))), i32(2)));
  c.set(i, i32(0));
  c.while(i32_lt_u(get(i), get(end)), () => {
    vector(get(i));
    c.set(i, i32_add(get(i), i32(16)));
  });
  c.set(end, i32_shl(get(n), i32(2)));
  c.while(i32_lt_u(get(i), get(end)), () => {
    lane(get(i));
    c.set(i, i32_add(get(i), i32(4)));
  });
}

/**
 * One element at a time with any element strides (signed, in elements): the same vector code
 * on a splatted lane, so a strided view gets exactly the bits a contiguous one does.
 */
function strided(c: Code, n: Local, operands: ReadonlyArray<[Local, Local]>, out: Local, lane: (values: Expr[]) => Expr): void {
  const i = c.local();
  const ptrs = operands.map(() => c.local());
  const steps = operands.map(() => c.local());
  operands.forEach(([base, stride], k) => {
    c.set(ptrs[k]!, get(base));
    c.set(steps[k]!, i32_shl(get(stride), i32(2)));
  });
  const dst = c.local();
  c.set(dst, get(out));
  c.for(i, i32(0), get(n), 1, () => {
    c.store("f32", get(dst), f32x4_extract_lane(lane(ptrs.map((p) => v128_load32_splat(get(p)))), 0));
    ptrs.forEach((p, k) => c.set(p, i32_add(get(p), get(steps[k]!))));
    c.set(dst, i32_add(get(dst), i32(4)));
  });
}

/** Whether an element stride is 0 or 1 (the vector patterns); negative strides are not. */
const unitOrZero = (stride: Local): Expr => i32_lt_u(get(stride), i32(2));

function emitUnary(mb: ModuleBuilder, op: WasmUnaryOp): FunctionBuilder {
  const fn = mb.function(`unary_${op}`, [I, I, I, I]);
  const [n, x, sx, out] = fn.params;
  const c = fn.body;
  const t = new VectorTemps(c);
  const y = c.local(V);
  c.if(
    i32_eq(get(sx), i32(1)),
    () =>
      runs(
        c,
        n,
        (at) => {
          UNARY_BODY[op](c, y, v128_load(i32_add(get(x), at)), t);
          c.store("v128", i32_add(get(out), at), get(y));
        },
        (at) => {
          UNARY_BODY[op](c, y, v128_load32_splat(i32_add(get(x), at)), t);
          c.store("f32", i32_add(get(out), at), f32x4_extract_lane(get(y), 0));
        },
      ),
    () =>
      strided(c, n, [[x, sx]], out, ([v]) => (cc) => {
        UNARY_BODY[op](cc, y, v!, t);
        get(y)(cc);
      }),
  );
  return fn;
}

function emitBinary(mb: ModuleBuilder, op: WasmBinaryOp): FunctionBuilder {
  const fn = mb.function(`binary_${op}`, [I, I, I, I, I, I]);
  const [n, a, sa, b, sb, out] = fn.params;
  const c = fn.body;
  const va = c.local(V);
  const vb = c.local(V);
  const f = BINARY_BODY[op];
  // one loop per stride pattern, so the hot loop has no branch
  const loop = (aScalar: boolean, bScalar: boolean) => {
    if (aScalar) c.set(va, v128_load32_splat(get(a)));
    if (bScalar) c.set(vb, v128_load32_splat(get(b)));
    const operand = (scalar: boolean, base: Local, v: Local, at: Expr, splat: boolean): Expr =>
      scalar ? get(v) : splat ? v128_load32_splat(i32_add(get(base), at)) : v128_load(i32_add(get(base), at));
    runs(
      c,
      n,
      (at) => c.store("v128", i32_add(get(out), at), f(operand(aScalar, a, va, at, false), operand(bScalar, b, vb, at, false))),
      (at) => c.store("f32", i32_add(get(out), at), f32x4_extract_lane(f(operand(aScalar, a, va, at, true), operand(bScalar, b, vb, at, true)), 0)),
    );
  };
  c.if(
    i32_and(unitOrZero(sa), unitOrZero(sb)),
    () =>
      c.if(
        get(sa),
        () =>
          c.if(
            get(sb),
            () => loop(false, false),
            () => loop(false, true),
          ),
        () =>
          c.if(
            get(sb),
            () => loop(true, false),
            () => loop(true, true),
          ),
      ),
    () =>
      strided(
        c,
        n,
        [
          [a, sa],
          [b, sb],
        ],
        out,
        ([x, y]) => f(x!, y!),
      ),
  );
  return fn;
}

/** Elements per block of `sum_rows` whose f32 partial sums are carried in f64. */
const SUM_BLOCK = 64;

function emitSumRows(mb: ModuleBuilder): FunctionBuilder {
  const fn = mb.function("sum_rows", [I, I, I, I]);
  const [rows, n, x, out] = fn.params;
  const c = fn.body;
  const r = c.local();
  const p = c.local();
  const rowEnd = c.local();
  const blockEnd = c.local();
  const vecEnd = c.local();
  const total = c.local(ValType.f64);
  const acc = [c.local(V), c.local(V)];
  const rowBytes = c.local();
  c.set(rowBytes, i32_shl(get(n), i32(2)));
  c.set(p, get(x));
  c.for(r, i32(0), get(rows), 1, () => {
    c.set(total, f64(0));
    c.set(rowEnd, i32_add(get(p), get(rowBytes)));
    c.while(i32_lt_u(get(p), get(rowEnd)), () => {
      c.set(blockEnd, i32_add(get(p), i32(SUM_BLOCK * 4)));
      c.set(blockEnd, select(get(blockEnd), get(rowEnd), i32_lt_u(get(blockEnd), get(rowEnd))));
      for (const v of acc) c.set(v, f32x4_const(0));
      // two accumulators hide the add latency; whole vectors, then single elements
      c.set(vecEnd, i32_sub(get(blockEnd), i32_and(i32_sub(get(blockEnd), get(p)), i32(31))));
      c.while(i32_lt_u(get(p), get(vecEnd)), () => {
        c.set(acc[0]!, f32x4_add(get(acc[0]!), v128_load(get(p))));
        c.set(acc[1]!, f32x4_add(get(acc[1]!), v128_load(get(p), 16)));
        c.set(p, i32_add(get(p), i32(32)));
      });
      c.set(acc[0]!, f32x4_add(get(acc[0]!), get(acc[1]!)));
      c.set(acc[1]!, f32x4_const(0));
      c.while(i32_lt_u(get(p), get(blockEnd)), () => {
        c.set(acc[1]!, f32x4_add(get(acc[1]!), v128_load32_splat(get(p))));
        c.set(p, i32_add(get(p), i32(4)));
      });
      // lanes 0-3 of acc[0], plus the single elements (every lane of acc[1] holds their sum)
      let block: Expr = f64_promote_f32(f32x4_extract_lane(get(acc[1]!), 0));
      for (let lane = 0; lane < 4; lane++) block = f64_add(block, f64_promote_f32(f32x4_extract_lane(get(acc[0]!), lane)));
      c.set(total, f64_add(get(total), block));
    });
    c.store("f32", i32_add(get(out), i32_shl(get(r), i32(2))), f32_demote_f64(get(total)));
  });
  return fn;
}

/**
 * `(job, chunk, thread)`: elements [chunk·perChunk, (chunk+1)·perChunk) of a flat unary or
 * binary job, dispatched on the op code to the kernels above.
 */
function emitChunk(mb: ModuleBuilder, name: string, kernels: readonly FunctionBuilder[], isBinary: boolean): FunctionBuilder {
  const fn = mb.function(name, [I, I, I], [], { export: false });
  const [jobPtr, chunk] = fn.params;
  const c = fn.body;
  const P = (slot: number) => jobParam(get(jobPtr), slot);
  const i0 = c.local();
  const count = c.local();
  const op = c.local();
  c.set(i0, i32_mul(get(chunk), P(ElementwiseParam.perChunk)));
  c.set(count, i32_sub(P(ElementwiseParam.n), get(i0)));
  c.set(count, i32_min_s(get(count), P(ElementwiseParam.perChunk)));
  c.set(op, P(ElementwiseParam.op));
  /** Byte offset of element i0 of an operand with element stride `s` (0 or 1). */
  const at = (base: number, stride?: number) =>
    i32_add(P(base), stride === undefined ? i32_shl(get(i0), i32(2)) : i32_mul(i32_shl(get(i0), i32(2)), P(stride)));
  kernels.forEach((kernel, k) => {
    c.if(i32_eq(get(op), i32(k)), () => {
      if (isBinary) {
        c.call(
          kernel,
          get(count),
          at(ElementwiseParam.a, ElementwiseParam.sa),
          P(ElementwiseParam.sa),
          at(ElementwiseParam.b, ElementwiseParam.sb),
          P(ElementwiseParam.sb),
          at(ElementwiseParam.out),
        );
      } else {
        c.call(kernel, get(count), at(ElementwiseParam.a), i32(1), at(ElementwiseParam.out));
      }
    });
  });
  return fn;
}
