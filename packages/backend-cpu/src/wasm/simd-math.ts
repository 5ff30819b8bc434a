/**
 * Vector math for the elementwise kernels: exp, tanh and sigmoid on four f32 lanes.
 *
 * WebAssembly has no transcendental instructions, and a scalar call per element into
 * JavaScript's Math costs more than the whole rest of an activation layer. These are the
 * textbook constructions, with coefficients fitted here by weighted least squares on
 * Chebyshev nodes (relative error of the polynomial part below 1.2e-7, about one f32 ulp;
 * the kernels are tested against float64 in the conformance suite):
 *
 * - exp(x) = 2^k · e^r with k = round(x / ln 2) and r = x - k·ln 2 (ln 2 split in two so
 *   the reduction is exact), e^r - 1 ≈ r + r²·P(r) on |r| ≤ ln2/2;
 * - tanh(x) = sign(x)·m/(m + 2) with m = e^{2|x|} - 1 = 2^k·(e^r - 1) + (2^k - 1), which
 *   keeps full relative precision near 0, where 1 - 2/(e^{2|x|} + 1) would cancel;
 * - sigmoid(x) = 1 / (1 + e^{-|x|}) for x ≥ 0, e^{-|x|} / (1 + e^{-|x|}) below.
 *
 * NaN propagates (f32x4.min/max return NaN for a NaN lane), ±inf give the limits.
 */
import {
  type Code,
  type Expr,
  f32x4_abs,
  f32x4_add,
  f32x4_const,
  f32x4_div,
  f32x4_gt,
  f32x4_lt,
  f32x4_max,
  f32x4_min,
  f32x4_mul,
  f32x4_neg,
  f32x4_sub,
  get,
  i32,
  i32x4_add,
  i32x4_const,
  i32x4_shl,
  i32x4_shr_s,
  i32x4_sub,
  type Local,
  v128_and,
  v128_bitselect,
  v128_or,
  ValType,
} from "./emitter.js";

/** e^r - 1 - r ≈ r²·(P0 + P1·r + P2·r² + P3·r³ + P4·r⁴) on [-ln2/2, ln2/2]. */
const EXP_P = [0.49999988595112727, 0.16666518459980315, 0.0416695331092313, 0.008368916341378995, 0.001375140789549957] as const;
/** tanh rounds to 1 in f32 from about 9.01; clamping a little below keeps e^{2|x|} finite. */
const TANH_CLAMP = 9;
const LOG2E = Math.LOG2E;
/** ln 2 = LN2_HI + LN2_LO; LN2_HI has 15 significant bits, so k·LN2_HI is exact for |k| < 2^9. */
const LN2_HI = 0.693145751953125;
const LN2_LO = Math.LN2 - LN2_HI;
/** Above this e^x overflows f32; below the lower bound it rounds to 0. */
const EXP_HI = 88.72283172607422;
const EXP_LO = -104;
/** 1.5·2^23: adding it to a float below 2^22 in magnitude rounds it to an integer. */
const MAGIC = 12582912;
/** MAGIC's bit pattern (0x4b400000). */
const MAGIC_BITS = 0x4b400000;

/** Scratch vector locals of one function, shared by the expansions below. */
export class VectorTemps {
  private readonly locals: Local[] = [];
  constructor(private readonly c: Code) {}

  /** The i-th temporary (created on first use). */
  at(i: number): Local {
    while (this.locals.length <= i) this.locals.push(this.c.local(ValType.v128));
    return this.locals[i]!;
  }
}

/** Horner's rule: c[0] + x·(c[1] + x·(...)). */
function horner(x: Expr, coefficients: readonly number[]): Expr {
  let acc: Expr = f32x4_const(coefficients[coefficients.length - 1]!);
  for (let i = coefficients.length - 2; i >= 0; i--) acc = f32x4_add(f32x4_mul(acc, x), f32x4_const(coefficients[i]!));
  return acc;
}

/**
 * `k = round(y / ln 2)` and `r = y - k·ln 2` for |y / ln 2| < 2^22: adding 1.5·2^23 rounds
 * y·log2(e) to an integer in the low mantissa bits (no float-to-int conversion, which costs a
 * dozen instructions on x86). Leaves the float k in temp 1, its bits plus MAGIC's in temp 2,
 * and r in temp 0.
 */
function reduce(c: Code, y: Expr, t: VectorTemps): { k: Local; kBits: Local; r: Local } {
  const r = t.at(0);
  const k = t.at(1);
  const kBits = t.at(2);
  c.set(r, y);
  c.set(kBits, f32x4_add(f32x4_mul(get(r), f32x4_const(LOG2E)), f32x4_const(MAGIC)));
  c.set(k, f32x4_sub(get(kBits), f32x4_const(MAGIC)));
  c.set(r, f32x4_sub(f32x4_sub(get(r), f32x4_mul(get(k), f32x4_const(LN2_HI))), f32x4_mul(get(k), f32x4_const(LN2_LO))));
  return { k, kBits, r };
}

/** 2^k from `kBits` (k's bits plus MAGIC's) plus an integer `extra` in the exponent. */
function pow2(kBits: Expr, extra = 0): Expr {
  return i32x4_shl(i32x4_add(kBits, i32x4_const(127 + extra - MAGIC_BITS)), i32(23));
}

/** e^r - 1 on |r| ≤ ln2/2, accurate relative to the result (no cancellation near 0). */
function expm1Reduced(r: Local): Expr {
  return f32x4_add(get(r), f32x4_mul(f32x4_mul(get(r), get(r)), horner(get(r), EXP_P)));
}

/** `out = e^x` lane-wise; uses temps 0-3. */
export function emitExp(c: Code, out: Local, x: Expr, t: VectorTemps): void {
  const xc = t.at(3);
  c.set(xc, x);
  const { kBits, r } = reduce(c, f32x4_min(f32x4_max(get(xc), f32x4_const(EXP_LO)), f32x4_const(EXP_HI)), t);
  // 2^k as 2^(k>>1)·2^(k-(k>>1)): k is in [-150, 128], beyond one exponent field, and the
  // halves are not (subnormal results round once, in the last product)
  c.set(kBits, i32x4_sub(get(kBits), i32x4_const(MAGIC_BITS)));
  const half = i32x4_shr_s(get(kBits), i32(1));
  const scale = (e: Expr) => i32x4_shl(i32x4_add(e, i32x4_const(127)), i32(23));
  c.set(out, f32x4_add(f32x4_const(1), expm1Reduced(r)));
  c.set(out, f32x4_mul(f32x4_mul(get(out), scale(half)), scale(i32x4_sub(get(kBits), half))));
  // past the range: +inf above, 0 below (NaN fails both tests and stays NaN)
  c.set(out, v128_bitselect(f32x4_const(Number.POSITIVE_INFINITY), get(out), f32x4_gt(get(xc), f32x4_const(EXP_HI))));
  c.set(out, v128_bitselect(f32x4_const(0), get(out), f32x4_lt(get(xc), f32x4_const(EXP_LO))));
}

/**
 * `out = tanh(x)` lane-wise; uses temps 0-3. tanh|x| = m / (m + 2) with m = e^{2|x|} - 1
 * computed as 2^k·expm1(r) + (2^k - 1): accurate from 0 (m ≈ 2|x|) to 9 (tanh rounds to 1).
 */
export function emitTanh(c: Code, out: Local, x: Expr, t: VectorTemps): void {
  const v = t.at(3);
  c.set(v, x);
  const { kBits, r } = reduce(c, f32x4_mul(f32x4_min(f32x4_abs(get(v)), f32x4_const(TANH_CLAMP)), f32x4_const(2)), t);
  c.set(kBits, pow2(get(kBits)));
  c.set(out, f32x4_add(f32x4_mul(get(kBits), expm1Reduced(r)), f32x4_sub(get(kBits), f32x4_const(1))));
  c.set(out, f32x4_div(get(out), f32x4_add(get(out), f32x4_const(2))));
  // the sign of x (NaN stays NaN)
  c.set(out, v128_or(get(out), v128_and(get(v), i32x4_const(-0x80000000))));
}

/**
 * `out = 1 / (1 + e^{-x})` lane-wise; uses temps 0-4. From e = e^{-|x|}, which never
 * overflows: 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0, so tiny results keep their precision.
 */
export function emitSigmoid(c: Code, out: Local, x: Expr, t: VectorTemps): void {
  const v = t.at(4);
  c.set(v, x);
  emitExp(c, out, f32x4_neg(f32x4_abs(get(v))), t);
  const e = t.at(3);
  c.set(e, get(out));
  c.set(out, f32x4_div(f32x4_const(1), f32x4_add(f32x4_const(1), get(e))));
  c.set(out, v128_bitselect(f32x4_mul(get(e), get(out)), get(out), f32x4_lt(get(v), f32x4_const(0))));
}
