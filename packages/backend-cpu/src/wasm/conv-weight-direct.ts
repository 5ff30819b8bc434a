/**
 * Generator of the direct weight gradient for convolutions with few weights per filter
 * (LeNet's conv1: 1 input channel, 5×5, so dW is 20×25).
 *
 * As a GEMM, `dW = Σ_n dy_n · im2col(x_n)` has N = C·kh·kw = 25 columns (four panels, the
 * last with one useful column) and needs the im2col of every image: for conv1 at batch 500,
 * 29 MB written and read again for 0.3 GFLOP. Directly, dW[o, c, i, j] = Σ_{n, oh, ow}
 * dy[n, o, oh, ow] · x[n, c, oh + i, ow + j]: four adjacent ow at a time, one vector of dy
 * multiplies kw shifted vectors of the input row into kw accumulators, kept in registers over
 * a whole plane and in the thread's scratch between planes (one f32x4 per weight: four
 * partial sums, added in a fixed order at the end). 2x faster than the GEMM for conv1.
 *
 * For stride 1, no padding, no dilation, one group and OW a multiple of 4. Chunks are ranges
 * of output channels: every weight's sum runs in the same order on whichever thread, so the
 * result does not depend on the number of threads.
 */
import {
  type Code,
  f32_add,
  f32x4_const,
  f32x4_extract_lane,
  f32x4_madd,
  type FunctionBuilder,
  get,
  i32,
  i32_add,
  i32_eq,
  i32_lt_u,
  i32_min_s,
  i32_mul,
  i32_shl,
  i32_shr_u,
  i32_sub,
  type Local,
  type ModuleBuilder,
  v128_load,
  ValType,
} from "./emitter.js";
import type { SimdFlavour } from "./features.js";
import { jobParam } from "./job.js";

const I = ValType.i32;
const V = ValType.v128;

/** Kernel widths with an unrolled kernel (the kw accumulators are registers). */
export const DIRECT_WEIGHT_MAX_KW = 7;

/** Job parameter slots of a direct weight-gradient job. */
export const DirectWeightParam = {
  x: 0,
  dy: 1,
  dw: 2,
  N: 3,
  C: 4,
  H: 5,
  W: 6,
  O: 7,
  kh: 8,
  kw: 9,
  OH: 10,
  OW: 11,
  /** Per-thread accumulators: `channelsPerChunk·C·kh·kw` vectors each. */
  scratch: 12,
  scratchStride: 13,
  channelsPerChunk: 14,
} as const;

/** Adds the unrolled plane kernels and `conv_dw_direct_chunk(job, chunk, thread)`. */
export function emitDirectWeightGradient(mb: ModuleBuilder, flavour: SimdFlavour): FunctionBuilder {
  const kernels = Array.from({ length: DIRECT_WEIGHT_MAX_KW }, (_, k) => emitPlaneKernel(mb, k + 1, flavour));
  return emitChunk(mb, kernels);
}

/**
 * `conv_dw_plane{kw}(acc, dy, x, rows, vectors, rowBytes)`: for one input plane shifted down
 * by a kernel row and one filter's dy plane, over `rows` output rows of `vectors` groups of
 * four outputs: acc[j] += Σ dy[4v..4v+3] · x[4v+j..4v+j+3] for j < kw. The kw accumulators
 * stay in registers for the whole plane. (Two filters sharing the loads of x measured 1.5x
 * slower: 2·kw accumulators no longer fit V8's vector registers and spill.)
 */
function emitPlaneKernel(mb: ModuleBuilder, kw: number, flavour: SimdFlavour): FunctionBuilder {
  const fn = mb.function(`conv_dw_plane${kw}`, [I, I, I, I, I, I], [], { export: false });
  const [acc, dy, x, rows, vectors, rowBytes] = fn.params;
  const c = fn.body;
  const a = Array.from({ length: kw }, () => c.local(V));
  const d = c.local(V);
  const xv = c.local(V);
  const r = c.local();
  const xp = c.local();
  const end = c.local();
  a.forEach((v, j) => c.set(v, v128_load(get(acc), 16 * j)));
  c.for(r, i32(0), get(rows), 1, () => {
    c.set(xp, get(x));
    c.set(end, i32_add(get(dy), i32_shl(get(vectors), i32(4))));
    // dy's rows are adjacent, so dy runs on through the plane
    c.while(i32_lt_u(get(dy), get(end)), () => {
      c.set(d, v128_load(get(dy)));
      for (let j = 0; j < kw; j++) {
        c.set(xv, v128_load(get(xp), 4 * j));
        madd(c, flavour, a[j]!, d, xv);
      }
      c.set(dy, i32_add(get(dy), i32(16)));
      c.set(xp, i32_add(get(xp), i32(16)));
    });
    c.set(x, i32_add(get(x), get(rowBytes)));
  });
  a.forEach((v, j) => c.store("v128", get(acc), get(v), 16 * j));
  return fn;
}

/** `acc += d · x`, fused where relaxed SIMD allows. */
function madd(c: Code, flavour: SimdFlavour, acc: Local, d: Local, x: Local): void {
  c.set(acc, f32x4_madd(flavour, get(d), get(x), get(acc)));
}

function emitChunk(mb: ModuleBuilder, kernels: readonly FunctionBuilder[]): FunctionBuilder {
  const fn = mb.function("conv_dw_direct_chunk", [I, I, I], [], { export: false });
  const [jobPtr, chunk, thread] = fn.params;
  const c = fn.body;
  const P = (slot: keyof typeof DirectWeightParam) => jobParam(get(jobPtr), DirectWeightParam[slot]);
  const [o0, o1, n, ch, i, o, kw, acc, accEnd, p, weights] = Array.from({ length: 11 }, () => c.local());
  const [xRow, dyRow, vectors, imageBytes, dyImageBytes, rowBytes, dyRowBytes, perFilter] = Array.from({ length: 8 }, () => c.local());
  const sum = c.local(ValType.f32);
  const v = c.local(V);

  c.set(o0, i32_mul(get(chunk), P("channelsPerChunk")));
  c.set(o1, i32_add(get(o0), P("channelsPerChunk")));
  c.set(o1, i32_min_s(get(o1), P("O")));
  c.set(kw, P("kw"));
  c.set(perFilter, i32_mul(i32_mul(P("C"), P("kh")), get(kw)));
  c.set(weights, i32_mul(i32_sub(get(o1), get(o0)), get(perFilter)));
  c.set(acc, i32_add(P("scratch"), i32_mul(get(thread), P("scratchStride"))));
  c.set(accEnd, i32_add(get(acc), i32_shl(get(weights), i32(4))));
  c.set(p, get(acc));
  c.while(i32_lt_u(get(p), get(accEnd)), () => {
    c.store("v128", get(p), f32x4_const(0));
    c.set(p, i32_add(get(p), i32(16)));
  });
  c.set(rowBytes, i32_shl(P("W"), i32(2)));
  c.set(dyRowBytes, i32_shl(P("OW"), i32(2)));
  c.set(imageBytes, i32_mul(i32_mul(P("C"), P("H")), get(rowBytes)));
  c.set(dyImageBytes, i32_mul(i32_mul(P("O"), P("OH")), get(dyRowBytes)));
  // OW / 4 groups of outputs per row
  c.set(vectors, i32_shr_u(P("OW"), i32(2)));

  c.for(n, i32(0), P("N"), 1, () => {
    c.for(ch, i32(0), P("C"), 1, () => {
      c.for(i, i32(0), P("kh"), 1, () => {
        // row i of channel ch of image n: output row 0's window row i
        c.set(xRow, i32_add(P("x"), i32_add(i32_mul(get(n), get(imageBytes)), i32_mul(i32_add(i32_mul(get(ch), P("H")), get(i)), get(rowBytes)))));
        c.for(o, get(o0), get(o1), 1, () => {
          c.set(dyRow, i32_add(P("dy"), i32_add(i32_mul(get(n), get(dyImageBytes)), i32_mul(i32_mul(get(o), P("OH")), get(dyRowBytes)))));
          // accumulators of weights (o, ch, i, 0..kw-1)
          c.set(
            p,
            i32_add(
              get(acc),
              i32_shl(i32_add(i32_mul(i32_sub(get(o), get(o0)), get(perFilter)), i32_mul(i32_add(i32_mul(get(ch), P("kh")), get(i)), get(kw))), i32(4)),
            ),
          );
          kernels.forEach((kernel, k) =>
            c.if(i32_eq(get(kw), i32(k + 1)), () => c.call(kernel, get(p), get(dyRow), get(xRow), P("OH"), get(vectors), get(rowBytes))),
          );
        });
      });
    });
  });
  // dw[o0..o1) = the lanes of each accumulator, added in order
  c.set(p, get(acc));
  c.set(xRow, i32_add(P("dw"), i32_shl(i32_mul(get(o0), get(perFilter)), i32(2))));
  c.while(i32_lt_u(get(p), get(accEnd)), () => {
    c.set(v, v128_load(get(p)));
    c.set(
      sum,
      f32_add(f32_add(f32x4_extract_lane(get(v), 0), f32x4_extract_lane(get(v), 1)), f32_add(f32x4_extract_lane(get(v), 2), f32x4_extract_lane(get(v), 3))),
    );
    c.store("f32", get(xRow), get(sum));
    c.set(p, i32_add(get(p), i32(16)));
    c.set(xRow, i32_add(get(xRow), i32(4)));
  });
  return fn;
}
