/**
 * Generator of the max-pooling kernels and their gradient, NCHW, one job chunk per range of
 * (n, c) planes (planes are independent, so any split gives the same bits).
 *
 * The general kernel walks each window (any size, stride, padding, ceil mode) exactly as the
 * reference does: the first maximum in row-major order wins, a NaN beats any number, padding
 * never wins. LeNet's case, 2×2 windows with stride 2 tiling the input exactly, has a SIMD
 * kernel for four windows at a time: two rows of eight floats are loaded, de-interleaved into
 * the windows' four corners with shuffles, and compared in the reference's order; the gradient
 * turns the comparisons into one mask per corner and writes dx without a separate zeroing pass.
 */
import {
  type Code,
  type Expr,
  type FunctionBuilder,
  f32,
  f32_add,
  f32_eq,
  f32_gt,
  f32_load,
  f32_ne,
  f32x4_eq,
  f32x4_gt,
  f32x4_ne,
  f32x4_shuffle,
  get,
  i32,
  i32_add,
  i32_and,
  i32_eqz,
  i32_gt_s,
  i32_lt_s,
  i32_lt_u,
  i32_mul,
  i32_or,
  i32_shl,
  i32_sub,
  type Local,
  type ModuleBuilder,
  select,
  v128_and,
  v128_andnot,
  v128_bitselect,
  v128_load,
  v128_not,
  v128_or,
  ValType,
} from "./emitter.js";
import { jobParam } from "./job.js";

const I = ValType.i32;
const V = ValType.v128;

/** Job parameter slots of a pooling job. */
export const PoolParam = {
  /** Input planes [planes, H, W]. */
  x: 0,
  H: 1,
  W: 2,
  /** Forward: the output [planes, OH, OW]; gradient: dy of that shape. */
  y: 3,
  OH: 4,
  OW: 5,
  kh: 6,
  kw: 7,
  sh: 8,
  sw: 9,
  ph: 10,
  pw: 11,
  /** Gradient only: dx [planes, H, W]. */
  dx: 12,
  planes: 13,
  planesPerChunk: 14,
  /** 0: forward, 1: gradient. */
  gradient: 15,
  /** 1: 2×2 windows, stride 2, no padding, H = 2·OH, W = 2·OW, OW a multiple of 4. */
  fast: 16,
} as const;

/** The pooling functions this generator adds. */
export interface PoolingFunctions {
  poolChunk: FunctionBuilder;
}

/** Adds the general and 2×2 kernels (forward and gradient) and their job chunk function. */
export function emitPooling(mb: ModuleBuilder): PoolingFunctions {
  const general = [false, true].map((gradient) => emitGeneral(mb, gradient));
  const fast = [false, true].map((gradient) => emitFast2x2(mb, gradient));
  return { poolChunk: emitPoolChunk(mb, general, fast) };
}

/** The geometry arguments every kernel takes after (p0, p1). */
const GEOMETRY = ["x", "H", "W", "y", "OH", "OW", "kh", "kw", "sh", "sw", "ph", "pw", "dx"] as const;

/**
 * `maxpool{,_grad}(p0, p1, x, H, W, y, OH, OW, kh, kw, sh, sw, ph, pw, dx)`: planes p0..p1-1.
 * Forward writes y; the gradient zeroes dx's planes, then adds dy at each window's winner.
 */
function emitGeneral(mb: ModuleBuilder, gradient: boolean): FunctionBuilder {
  const fn = mb.function(gradient ? "maxpool_grad" : "maxpool", new Array<ValType>(15).fill(I));
  const [p0, p1, x, H, W, y, OH, OW, kh, kw, sh, sw, ph, pw, dx] = fn.params;
  const c = fn.body;
  const plane = c.local();
  const i = c.local();
  const j = c.local();
  const yy = c.local();
  const xx = c.local();
  const y0 = c.local();
  const y1 = c.local();
  const x0 = c.local();
  const x1 = c.local();
  const xPlane = c.local();
  const yPtr = c.local();
  const at = c.local();
  const best = c.local(ValType.f32);
  const bestAt = c.local();
  const v = c.local(ValType.f32);
  const planeBytes = c.local();
  const max = (a: Local, b: Expr): Expr => select(get(a), b, i32_gt_s(get(a), b));
  const min = (a: Local, b: Expr): Expr => select(get(a), b, i32_lt_s(get(a), b));

  c.set(planeBytes, i32_shl(i32_mul(get(H), get(W)), i32(2)));
  c.set(yPtr, i32_add(get(y), i32_shl(i32_mul(get(p0), i32_mul(get(OH), get(OW))), i32(2))));
  if (gradient) {
    // dx planes p0..p1-1 start at zero: windows may overlap or leave cells uncovered
    c.set(at, i32_add(get(dx), i32_mul(get(p0), get(planeBytes))));
    c.set(x1, i32_add(get(dx), i32_mul(get(p1), get(planeBytes))));
    c.while(i32_lt_u(get(at), get(x1)), () => {
      c.store("f32", get(at), f32(0));
      c.set(at, i32_add(get(at), i32(4)));
    });
  }
  c.for(plane, get(p0), get(p1), 1, () => {
    c.set(xPlane, i32_mul(get(plane), get(planeBytes)));
    c.for(i, i32(0), get(OH), 1, () => {
      c.set(y0, i32_sub(i32_mul(get(i), get(sh)), get(ph)));
      c.set(y1, i32_add(get(y0), get(kh)));
      c.set(y1, min(y1, get(H)));
      c.set(y0, max(y0, i32(0)));
      c.for(j, i32(0), get(OW), 1, () => {
        c.set(x0, i32_sub(i32_mul(get(j), get(sw)), get(pw)));
        c.set(x1, i32_add(get(x0), get(kw)));
        c.set(x1, min(x1, get(W)));
        c.set(x0, max(x0, i32(0)));
        c.set(best, f32(Number.NEGATIVE_INFINITY));
        c.set(bestAt, i32(-1));
        c.for(yy, get(y0), get(y1), 1, () => {
          c.for(xx, get(x0), get(x1), 1, () => {
            c.set(at, i32_add(get(xPlane), i32_shl(i32_add(i32_mul(get(yy), get(W)), get(xx)), i32(2))));
            c.set(v, f32_load(i32_add(get(x), get(at))));
            // the first cell, a larger one, or the first NaN after numbers
            const wins = i32_or(
              i32_lt_s(get(bestAt), i32(0)),
              i32_or(f32_gt(get(v), get(best)), i32_and(f32_ne(get(v), get(v)), f32_eq(get(best), get(best)))),
            );
            c.if(wins, () => {
              c.set(best, get(v));
              c.set(bestAt, get(at));
            });
          });
        });
        if (gradient) {
          c.if(i32_eqz(i32_lt_s(get(bestAt), i32(0))), () => {
            const cell = i32_add(get(dx), get(bestAt));
            c.store("f32", cell, f32_add(f32_load(cell), f32_load(get(yPtr))));
          });
        } else {
          c.store("f32", get(yPtr), get(best));
        }
        c.set(yPtr, i32_add(get(yPtr), i32(4)));
      });
    });
  });
  return fn;
}

/** Lanes 0, 2, 4, 6 and 1, 3, 5, 7 of the eight floats in (lo, hi). */
const EVEN: [number, number, number, number] = [0, 2, 4, 6];
const ODD: [number, number, number, number] = [1, 3, 5, 7];

/** Same signature as the general kernels; requires the geometry of {@link PoolParam.fast}. */
function emitFast2x2(mb: ModuleBuilder, gradient: boolean): FunctionBuilder {
  const fn = mb.function(gradient ? "maxpool2x2_grad" : "maxpool2x2", new Array<ValType>(15).fill(I));
  const [p0, p1, x, H, W, y, OH, OW, , , , , , , dx] = fn.params;
  const c = fn.body;
  const rowPair = c.local();
  const rowPairs = c.local();
  const src = c.local();
  const dst = c.local();
  const yPtr = c.local();
  const rowEnd = c.local();
  const rowBytes = c.local();
  const [a0, a1, b0, b1] = [c.local(V), c.local(V), c.local(V), c.local(V)];

  c.set(rowBytes, i32_shl(get(W), i32(2)));
  // rows of windows over all planes in the range: plane p holds OH of them
  c.set(rowPairs, i32_mul(i32_sub(get(p1), get(p0)), get(OH)));
  c.set(src, i32_add(get(x), i32_mul(get(p0), i32_shl(i32_mul(get(H), get(W)), i32(2)))));
  c.set(dst, i32_add(get(dx), i32_mul(get(p0), i32_shl(i32_mul(get(H), get(W)), i32(2)))));
  c.set(yPtr, i32_add(get(y), i32_mul(get(p0), i32_shl(i32_mul(get(OH), get(OW)), i32(2)))));
  c.for(rowPair, i32(0), get(rowPairs), 1, () => {
    c.set(rowEnd, i32_add(get(src), get(rowBytes)));
    c.while(i32_lt_u(get(src), get(rowEnd)), () => {
      c.set(a0, v128_load(get(src)));
      c.set(a1, v128_load(get(src), 16));
      c.set(b0, v128_load(i32_add(get(src), get(rowBytes))));
      c.set(b1, v128_load(i32_add(get(src), get(rowBytes)), 16));
      emitFastWindows(c, [a0, a1, b0, b1], get(yPtr), gradient ? { dst: get(dst), rowBytes: get(rowBytes) } : undefined);
      c.set(src, i32_add(get(src), i32(32)));
      c.set(dst, i32_add(get(dst), i32(32)));
      c.set(yPtr, i32_add(get(yPtr), i32(16)));
    });
    // skip the second row of the pair
    c.set(src, i32_add(get(src), get(rowBytes)));
    c.set(dst, i32_add(get(dst), get(rowBytes)));
  });
  return fn;
}

/**
 * Four windows at once: corners a (top left), b, c, d (bottom right) in row-major order; each
 * later corner wins if it is larger, or NaN while the best so far is not, as in the reference
 * (so -0 before +0 stays -0, which f32x4.max would not keep). Forward: stores the winners at
 * `y`. Gradient (`grad` given): routes dy at `y` to the winning corners of dx.
 */
function emitFastWindows(c: Code, [a0, a1, b0, b1]: Local[], y: Expr, grad?: { dst: Expr; rowBytes: Expr }): void {
  const corner = [c.local(V), c.local(V), c.local(V), c.local(V)];
  const wins = [c.local(V), c.local(V), c.local(V)];
  const best = c.local(V);
  const g = c.local(V);
  c.set(corner[0]!, f32x4_shuffle(get(a0!), get(a1!), EVEN));
  c.set(corner[1]!, f32x4_shuffle(get(a0!), get(a1!), ODD));
  c.set(corner[2]!, f32x4_shuffle(get(b0!), get(b1!), EVEN));
  c.set(corner[3]!, f32x4_shuffle(get(b0!), get(b1!), ODD));
  c.set(best, get(corner[0]!));
  for (let k = 1; k < 4; k++) {
    const v = corner[k]!;
    const win = v128_or(f32x4_gt(get(v), get(best)), v128_and(f32x4_ne(get(v), get(v)), f32x4_eq(get(best), get(best))));
    c.set(wins[k - 1]!, win);
    c.set(best, v128_bitselect(get(v), get(best), get(wins[k - 1]!)));
  }
  if (!grad) {
    c.store("v128", y, get(best));
    return;
  }
  // the last corner to win keeps the gradient: d if it won, else c, else b, else a
  const [wb, wc, wd] = wins as [Local, Local, Local];
  c.set(g, v128_load(y));
  const gd = v128_and(get(g), get(wd));
  const gc = v128_and(get(g), v128_andnot(get(wc), get(wd)));
  const gb = v128_and(get(g), v128_andnot(v128_andnot(get(wb), get(wc)), get(wd)));
  const ga = v128_and(get(g), v128_not(v128_or(get(wb), v128_or(get(wc), get(wd)))));
  // re-interleave: row 0 is a0 b0 a1 b1 | a2 b2 a3 b3, row 1 the same with c and d
  c.set(corner[0]!, ga);
  c.set(corner[1]!, gb);
  c.set(corner[2]!, gc);
  c.set(corner[3]!, gd);
  const { dst, rowBytes } = grad;
  c.store("v128", dst, f32x4_shuffle(get(corner[0]!), get(corner[1]!), [0, 4, 1, 5]));
  c.store("v128", dst, f32x4_shuffle(get(corner[0]!), get(corner[1]!), [2, 6, 3, 7]), 16);
  c.store("v128", i32_add(dst, rowBytes), f32x4_shuffle(get(corner[2]!), get(corner[3]!), [0, 4, 1, 5]));
  c.store("v128", i32_add(dst, rowBytes), f32x4_shuffle(get(corner[2]!), get(corner[3]!), [2, 6, 3, 7]), 16);
}

/** `pool_chunk(job, chunk, thread)`: planes [chunk·perChunk, ...) of a pooling job. */
function emitPoolChunk(mb: ModuleBuilder, general: FunctionBuilder[], fast: FunctionBuilder[]): FunctionBuilder {
  const fn = mb.function("pool_chunk", [I, I, I], [], { export: false });
  const [jobPtr, chunk] = fn.params;
  const c = fn.body;
  const P = (slot: number) => jobParam(get(jobPtr), slot);
  const p0 = c.local();
  const p1 = c.local();
  c.set(p0, i32_mul(get(chunk), P(PoolParam.planesPerChunk)));
  c.set(p1, i32_add(get(p0), P(PoolParam.planesPerChunk)));
  c.set(p1, select(get(p1), P(PoolParam.planes), i32_lt_s(get(p1), P(PoolParam.planes))));
  const args = () => [get(p0), get(p1), ...GEOMETRY.map((name) => P(PoolParam[name]))];
  for (const gradient of [0, 1]) {
    c.if(i32_eqz(i32_sub(P(PoolParam.gradient), i32(gradient))), () =>
      c.if(
        P(PoolParam.fast),
        () => c.call(fast[gradient]!, ...args()),
        () => c.call(general[gradient]!, ...args()),
      ),
    );
  }
  return fn;
}
