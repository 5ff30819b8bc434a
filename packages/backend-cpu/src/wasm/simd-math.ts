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
 *   the reduction is exact), e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2;
 * - tanh(x) = x + x³·Q(x²) for |x| < 0.625, else sign(x)·(1 - 2/(e^{2|x|} + 1)), which has
 *   no cancellation there (the result is above 0.55);
 * - sigmoid(x) = 1 / (1 + e^{-x}).
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
  f32x4_nearest,
  f32x4_neg,
  f32x4_sub,
  get,
  i32,
  i32x4_add,
  i32x4_const,
  i32x4_shl,
  i32x4_shr_s,
  i32x4_sub,
  i32x4_trunc_sat_f32x4_s,
  type Local,
  v128_and,
  v128_bitselect,
  v128_or,
  ValType,
} from "./emitter.js";

/** e^r - 1 - r ≈ r²·(P0 + P1·r + P2·r² + P3·r³ + P4·r⁴) on [-ln2/2, ln2/2]. */
const EXP_P = [0.49999988595112727, 0.16666518459980315, 0.0416695331092313, 0.008368916341378995, 0.001375140789549957] as const;
/** tanh(x) - x ≈ x³·(Q0 + Q1·z + ... + Q4·z⁴), z = x², on [0, 0.625]. */
const TANH_Q = [-0.333332852188943, 0.13331512644825047, -0.053744656081191895, 0.020653118198681125, -0.00571895512510832] as const;
const TANH_SMALL = 0.625;
/** tanh(9) rounds to 1 in f32, so larger inputs are clamped here (e^18 stays finite). */
const TANH_CLAMP = 9;
const LOG2E = Math.LOG2E;
/** ln 2 = LN2_HI + LN2_LO; LN2_HI has few mantissa bits, so k·LN2_HI is exact for |k| < 2^11. */
const LN2_HI = 0.693145751953125;
const LN2_LO = Math.LN2 - LN2_HI;
/** Above this e^x overflows f32; below the lower bound it rounds to 0. */
const EXP_HI = 88.72283172607422;
const EXP_LO = -104;

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

/** `out = e^x` lane-wise; uses temps 0-2. */
export function emitExp(c: Code, out: Local, x: Expr, t: VectorTemps): void {
  const xc = t.at(0);
  const k = t.at(1);
  const r = t.at(2);
  c.set(xc, x);
  c.set(k, f32x4_nearest(f32x4_mul(f32x4_min(f32x4_max(get(xc), f32x4_const(EXP_LO)), f32x4_const(EXP_HI)), f32x4_const(LOG2E))));
  c.set(r, f32x4_sub(f32x4_sub(get(xc), f32x4_mul(get(k), f32x4_const(LN2_HI))), f32x4_mul(get(k), f32x4_const(LN2_LO))));
  // e^r, then times 2^k as 2^(k>>1)·2^(k-(k>>1)): k is in [-150, 128], beyond one exponent
  // field, and the halves are not (subnormal results round once, in the last product)
  const er = f32x4_add(f32x4_add(f32x4_const(1), get(r)), f32x4_mul(f32x4_mul(get(r), get(r)), horner(get(r), EXP_P)));
  c.set(k, i32x4_trunc_sat_f32x4_s(get(k)));
  const half = i32x4_shr_s(get(k), i32(1));
  const pow2 = (e: Expr) => i32x4_shl(i32x4_add(e, i32x4_const(127)), i32(23));
  c.set(out, f32x4_mul(f32x4_mul(er, pow2(half)), pow2(i32x4_sub(get(k), half))));
  // past the range: +inf above, 0 below
  c.set(out, v128_bitselect(f32x4_const(Number.POSITIVE_INFINITY), get(out), f32x4_gt(get(xc), f32x4_const(EXP_HI))));
  c.set(out, v128_bitselect(f32x4_const(0), get(out), f32x4_lt(get(xc), f32x4_const(EXP_LO))));
}

/** `out = tanh(x)` lane-wise; uses temps 0-5. */
export function emitTanh(c: Code, out: Local, x: Expr, t: VectorTemps): void {
  const v = t.at(3);
  const a = t.at(4);
  const small = t.at(5);
  c.set(v, x);
  c.set(a, f32x4_abs(get(v)));
  // |x| < 0.625: odd polynomial
  c.set(small, f32x4_mul(get(v), get(v)));
  c.set(small, f32x4_add(get(v), f32x4_mul(f32x4_mul(get(v), get(small)), horner(get(small), TANH_Q))));
  // otherwise 1 - 2/(e^{2|x|} + 1), with the sign of x put back
  emitExp(c, out, f32x4_mul(f32x4_min(get(a), f32x4_const(TANH_CLAMP)), f32x4_const(2)), t);
  c.set(out, f32x4_sub(f32x4_const(1), f32x4_div(f32x4_const(2), f32x4_add(get(out), f32x4_const(1)))));
  c.set(out, v128_or(get(out), v128_and(get(v), i32x4_const(-0x80000000))));
  c.set(out, v128_bitselect(get(small), get(out), f32x4_lt(get(a), f32x4_const(TANH_SMALL))));
}

/** `out = 1 / (1 + e^{-x})` lane-wise; uses temps 0-2. */
export function emitSigmoid(c: Code, out: Local, x: Expr, t: VectorTemps): void {
  emitExp(c, out, f32x4_neg(x), t);
  c.set(out, f32x4_div(f32x4_const(1), f32x4_add(f32x4_const(1), get(out))));
}
