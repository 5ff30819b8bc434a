/**
 * Generator of the convolution gradients that skip zeros of dy.
 *
 * Behind a max pool, dy of a convolution is zero except at each window's maximum: for LeNet's
 * 2×2 pools, three entries in four. Both gradients are sums of dy-weighted rows, so they can
 * walk the nonzeros alone, a quarter of the dense GEMM's multiply-adds (each needs its own
 * load, so the gain is about 2x, not 4x):
 *
 * - weight: dW[o, :] += Σ_p dy[n, o, p] · cols_n[p, :], for the nonzero p of each filter's
 *   dy row, where cols_n = im2col(x_n) is written image by image into the thread's scratch;
 * - input: dcols[p, :] = Σ_o dy[n, o, p] · W[o, :], for the nonzero o at each pixel, then
 *   col2im as the dense path does.
 *
 * Per image, a thread first lists the nonzeros (byte offset of the row they weight, and the
 * value: 8 bytes each, written unconditionally and kept when nonzero, so listing takes no
 * branch), then sweeps the rows of dW or dcols in column blocks that stay in registers over
 * a whole list. The caller takes this path only when dy is sparse enough and the rows it
 * multiplies are finite (a skipped 0 · ∞ would hide a NaN).
 *
 * Both jobs split the images, so threads share nothing but their inputs. The input gradient
 * writes each image's dx whole; the weight gradient sums each chunk's images into the chunk's
 * own partial dW (chunks are fixed ranges of images, a function of N alone) and the caller
 * adds the partials in chunk order: every sum runs in the same order whichever thread runs
 * it, so the results do not depend on the number of threads.
 */
import {
  type Code,
  f32x4_extract_lane,
  f32x4_ne,
  f32x4_madd,
  f32x4_sub,
  f32x4_eq,
  type Expr,
  type FunctionBuilder,
  f32,
  f32_load,
  f32_ne,
  get,
  i32,
  i32_add,
  i32_and,
  i32_eq,
  i32_load,
  i32_lt_u,
  i32_min_s,
  i32_mul,
  i32_ne,
  i32_shl,
  i32_sub,
  i32x4_extract_lane,
  i32x4_sub,
  type Local,
  type ModuleBuilder,
  v128_and,
  v128_load,
  v128_load32_splat,
  v128_zero,
  ValType,
} from "./emitter.js";
import type { SimdFlavour } from "./features.js";
import { GEOMETRY_ARGS, GeometryParam } from "./im2col.js";
import { jobParam } from "./job.js";

const I = ValType.i32;
const V = ValType.v128;

/** Bytes per listed nonzero: the byte offset of the row it weights, then its value. */
export const SPARSE_ENTRY_BYTES = 8;

/**
 * Vectors per column block. Each nonzero costs a load per vector, so wider blocks only save
 * list walking. Measured on LeNet's conv2 at batch 500, as a fraction of the dense gradient's
 * time in the same process: 4 and 6 about 0.40, 2, 3 and 8 0.44–0.46, 12 0.6–0.8.
 */
const BLOCK_VECTORS = 4;

/**
 * Job parameter slots of a sparse weight-gradient job; slots 0-13 are the geometry (X = x).
 * Chunk c sums its images into its own partial dW; the caller adds the partials in order.
 */
export const SparseWeightParam = {
  ...GeometryParam,
  dy: 14,
  /** Partial dW of chunk c at `partials + c·partialStride` bytes. */
  partials: 15,
  partialStride: 16,
  O: 17,
  K: 18,
  images: 19,
  imagesPerChunk: 20,
  scratch: 21,
  scratchStride: 22,
  /** Where a thread's entries and cols start in its scratch (after O + 1 list starts). */
  entriesOffset: 23,
  colsOffset: 24,
} as const;

/** Job parameter slots of a sparse input-gradient job; slots 0-13 are the geometry (X = dx). */
export const SparseInputParam = {
  ...GeometryParam,
  /** The weight, [O, K] row-major. */
  Wt: 14,
  dy: 15,
  O: 16,
  K: 17,
  images: 18,
  imagesPerChunk: 19,
  scratch: 20,
  scratchStride: 21,
  /** Where a thread's entries and dcols start in its scratch (after pixels + 1 list starts). */
  entriesOffset: 22,
  dcolsOffset: 23,
} as const;

/** The sparse gradient job functions added to a module. */
export interface SparseConvFunctions {
  sparseWeightChunk: FunctionBuilder;
  sparseInputChunk: FunctionBuilder;
}

/**
 * Adds `conv_dw_sparse_chunk` and `conv_dx_sparse_chunk` (both `(job, chunk, thread)`), and
 * the exported scans the caller decides with: `count_nonzero(n, x)` (NaN counts as nonzero)
 * and `all_finite(n, x)` (1 or 0).
 */
export function emitSparseConv(mb: ModuleBuilder, flavour: SimdFlavour, im2col: FunctionBuilder, col2im: FunctionBuilder): SparseConvFunctions {
  emitCountNonzero(mb);
  emitAllFinite(mb);
  return { sparseWeightChunk: emitWeightChunk(mb, flavour, im2col), sparseInputChunk: emitInputChunk(mb, flavour, col2im) };
}

/**
 * Appends the nonzeros of `count` floats at `src` (stride `srcStep` bytes) to the list at
 * `e`: entry i holds `offset0 + i·offsetStep` and the value. Advances `e` past the kept ones.
 */
function listNonzeros(c: Code, e: Local, src: Local, srcStep: Expr, count: Expr, offset0: Expr, offsetStep: Expr): void {
  const i = c.local();
  const offset = c.local();
  const v = c.local(ValType.f32);
  c.set(offset, offset0);
  c.for(i, i32(0), count, 1, () => {
    c.set(v, f32_load(get(src)));
    c.store("i32", get(e), get(offset));
    c.store("f32", get(e), get(v), 4);
    c.set(e, i32_add(get(e), i32_shl(f32_ne(get(v), f32(0)), i32(3))));
    c.set(src, i32_add(get(src), srcStep));
    c.set(offset, i32_add(get(offset), offsetStep));
  });
}

/**
 * For every column block of a K-float row: `dst[row][block] = (load ? dst : 0) + Σ_entries
 * value · base[entry.offset][block]` over rows 0..rows-1, each with its own list (starts[r]
 * to starts[r+1]) and destination `dst0 + r·dstStep`. Blocks of BLOCK_VECTORS vectors, then of one,
 * then single floats (computed as splatted vectors, so they round like the lanes do).
 */
function sweepBlocks(c: Code, flavour: SimdFlavour, K: Local, rows: Expr, starts: Local, base: Local, dst0: Local, dstStep: Local, load: Local): void {
  const kb = c.local();
  const r = c.local();
  const e = c.local();
  const end = c.local();
  const dst = c.local();
  const baseKb = c.local();
  const src = c.local();
  const s = c.local(V);
  const acc = Array.from({ length: BLOCK_VECTORS }, () => c.local(V));
  const rowBytes = c.local();
  c.set(rowBytes, i32_shl(get(K), i32(2)));

  const block = (vectors: number, floatStep: number) => {
    const lanes = vectors === 0 ? 1 : vectors;
    const used = acc.slice(0, lanes);
    const loadAcc = (i: number) => (vectors === 0 ? v128_load32_splat(get(dst)) : v128_load(get(dst), 16 * i));
    const loadRow = (i: number) => (vectors === 0 ? v128_load32_splat(get(src)) : v128_load(get(src), 16 * i));
    c.while(i32_lt_u(i32_add(get(kb), i32(floatStep * 4 - 1)), get(rowBytes)), () => {
      c.set(baseKb, i32_add(get(base), get(kb)));
      c.set(dst, i32_add(get(dst0), get(kb)));
      c.for(r, i32(0), rows, 1, () => {
        c.set(e, i32_add(get(starts), i32_shl(get(r), i32(2))));
        c.set(end, i32_load(get(e), 4));
        c.set(e, i32_load(get(e)));
        c.if(
          get(load),
          () => used.forEach((a, i) => c.set(a, loadAcc(i))),
          () => used.forEach((a) => c.set(a, v128_zero)),
        );
        c.while(i32_lt_u(get(e), get(end)), () => {
          c.set(s, v128_load32_splat(get(e), 4));
          c.set(src, i32_add(get(baseKb), i32_load(get(e))));
          used.forEach((a, i) => c.set(a, f32x4_madd(flavour, get(s), loadRow(i), get(a))));
          c.set(e, i32_add(get(e), i32(SPARSE_ENTRY_BYTES)));
        });
        if (vectors === 0) c.store("f32", get(dst), f32x4_extract_lane(get(acc[0]!), 0));
        else used.forEach((a, i) => c.store("v128", get(dst), get(a), 16 * i));
        c.set(dst, i32_add(get(dst), get(dstStep)));
      });
      c.set(kb, i32_add(get(kb), i32(floatStep * 4)));
    });
  };
  c.set(kb, i32(0));
  block(BLOCK_VECTORS, 4 * BLOCK_VECTORS);
  block(1, 4);
  block(0, 1);
}

/**
 * `conv_dw_sparse_chunk(job, chunk, thread)`: the partial dW of images n0..n1, each im2col'd
 * into the thread's scratch (so nothing is shared between threads but x and dy).
 */
function emitWeightChunk(mb: ModuleBuilder, flavour: SimdFlavour, im2col: FunctionBuilder): FunctionBuilder {
  const fn = mb.function("conv_dw_sparse_chunk", [I, I, I], [], { export: false });
  const [jobPtr, chunk, thread] = fn.params;
  const c = fn.body;
  const P = (slot: keyof typeof SparseWeightParam) => jobParam(get(jobPtr), SparseWeightParam[slot]);
  const [n, n0, n1, r, O, starts, e, dyRow, cols, dst0, K, rowBytes, pixels, pixelBytes, load, image, imageBytes] = Array.from({ length: 17 }, () => c.local());

  c.set(n0, i32_mul(get(chunk), P("imagesPerChunk")));
  c.set(n1, i32_add(get(n0), P("imagesPerChunk")));
  c.set(n1, i32_min_s(get(n1), P("images")));
  c.set(starts, i32_add(P("scratch"), i32_mul(get(thread), P("scratchStride"))));
  c.set(cols, i32_add(get(starts), P("colsOffset")));
  c.set(O, P("O"));
  c.set(K, P("K"));
  c.set(rowBytes, i32_shl(get(K), i32(2)));
  c.set(pixels, i32_mul(P("OH"), P("OW")));
  c.set(pixelBytes, i32_shl(get(pixels), i32(2)));
  c.set(imageBytes, i32_shl(i32_mul(i32_mul(P("C"), P("H")), P("W")), i32(2)));
  c.set(dst0, i32_add(P("partials"), i32_mul(get(chunk), P("partialStride"))));
  c.set(n, get(n0));
  c.set(image, i32_add(P("X"), i32_mul(get(n), get(imageBytes))));
  c.set(dyRow, i32_add(P("dy"), i32_mul(i32_mul(get(n), get(O)), get(pixelBytes))));
  c.while(i32_lt_u(get(n), get(n1)), () => {
    c.call(im2col, i32(0), i32(1), get(image), ...GEOMETRY_ARGS.map((slot) => P(slot)), get(cols));
    // the nonzeros of each filter's dy row: offsets of the cols rows they weight
    c.set(e, i32_add(get(starts), P("entriesOffset")));
    c.for(r, i32(0), get(O), 1, () => {
      c.store("i32", i32_add(get(starts), i32_shl(get(r), i32(2))), get(e));
      listNonzeros(c, e, dyRow, i32(4), get(pixels), i32(0), get(rowBytes));
    });
    c.store("i32", i32_add(get(starts), i32_shl(get(O), i32(2))), get(e));
    // the chunk's first image overwrites its partial dW
    c.set(load, i32_ne(get(n), get(n0)));
    sweepBlocks(c, flavour, K, get(O), starts, cols, dst0, rowBytes, load);
    c.set(image, i32_add(get(image), get(imageBytes)));
    c.set(n, i32_add(get(n), i32(1)));
  });
  return fn;
}

/** `conv_dx_sparse_chunk(job, chunk, thread)`: dx of images n0..n1. */
function emitInputChunk(mb: ModuleBuilder, flavour: SimdFlavour, col2im: FunctionBuilder): FunctionBuilder {
  const fn = mb.function("conv_dx_sparse_chunk", [I, I, I], [], { export: false });
  const [jobPtr, chunk, thread] = fn.params;
  const c = fn.body;
  const P = (slot: keyof typeof SparseInputParam) => jobParam(get(jobPtr), SparseInputParam[slot]);
  const [n, n1, p, starts, e, src, dcols, W, K, rowBytes, pixels, pixelBytes, dyImage, dyImageBytes, image, imageBytes, zero] = Array.from({ length: 17 }, () =>
    c.local(),
  );

  c.set(n, i32_mul(get(chunk), P("imagesPerChunk")));
  c.set(n1, i32_add(get(n), P("imagesPerChunk")));
  c.set(n1, i32_min_s(get(n1), P("images")));
  c.set(starts, i32_add(P("scratch"), i32_mul(get(thread), P("scratchStride"))));
  c.set(dcols, i32_add(get(starts), P("dcolsOffset")));
  c.set(W, P("Wt"));
  c.set(K, P("K"));
  c.set(rowBytes, i32_shl(get(K), i32(2)));
  c.set(pixels, i32_mul(P("OH"), P("OW")));
  c.set(pixelBytes, i32_shl(get(pixels), i32(2)));
  c.set(dyImageBytes, i32_mul(P("O"), get(pixelBytes)));
  c.set(imageBytes, i32_shl(i32_mul(i32_mul(P("C"), P("H")), P("W")), i32(2)));
  c.set(dyImage, i32_add(P("dy"), i32_mul(get(n), get(dyImageBytes))));
  c.set(image, i32_add(P("X"), i32_mul(get(n), get(imageBytes))));
  c.set(zero, i32(0));
  c.while(i32_lt_u(get(n), get(n1)), () => {
    // the nonzeros at each pixel, over the filters: offsets of the weight rows they weight
    c.set(e, i32_add(get(starts), P("entriesOffset")));
    c.for(p, i32(0), get(pixels), 1, () => {
      c.store("i32", i32_add(get(starts), i32_shl(get(p), i32(2))), get(e));
      c.set(src, i32_add(get(dyImage), i32_shl(get(p), i32(2))));
      listNonzeros(c, e, src, get(pixelBytes), P("O"), i32(0), get(rowBytes));
    });
    c.store("i32", i32_add(get(starts), i32_shl(get(pixels), i32(2))), get(e));
    sweepBlocks(c, flavour, K, get(pixels), starts, W, dcols, rowBytes, zero);
    c.call(col2im, get(image), ...GEOMETRY_ARGS.map((s) => P(s)), get(dcols));
    c.set(dyImage, i32_add(get(dyImage), get(dyImageBytes)));
    c.set(image, i32_add(get(image), get(imageBytes)));
    c.set(n, i32_add(get(n), i32(1)));
  });
  return fn;
}

/** `count_nonzero(n, x) -> i32`: elements of n floats at x that are not ±0 (NaN counts). */
function emitCountNonzero(mb: ModuleBuilder): void {
  const fn = mb.function("count_nonzero", [I, I], [I]);
  const [n, x] = fn.params;
  const c = fn.body;
  const i = c.local();
  const end = c.local();
  const count = c.local();
  const lanes = c.local(V);
  c.set(lanes, v128_zero);
  c.set(end, i32_add(get(x), i32_shl(i32_sub(get(n), i32_and(get(n), i32(3))), i32(2))));
  c.set(i, get(x));
  c.while(i32_lt_u(get(i), get(end)), () => {
    // a true lane is -1: subtracting it counts one
    c.set(lanes, i32x4_sub(get(lanes), f32x4_ne(v128_load(get(i)), v128_zero)));
    c.set(i, i32_add(get(i), i32(16)));
  });
  c.set(
    count,
    i32_add(
      i32_add(i32x4_extract_lane(get(lanes), 0), i32x4_extract_lane(get(lanes), 1)),
      i32_add(i32x4_extract_lane(get(lanes), 2), i32x4_extract_lane(get(lanes), 3)),
    ),
  );
  c.set(end, i32_add(get(x), i32_shl(get(n), i32(2))));
  c.while(i32_lt_u(get(i), get(end)), () => {
    c.set(count, i32_add(get(count), i32_and(i32x4_extract_lane(f32x4_ne(v128_load32_splat(get(i)), v128_zero), 0), i32(1))));
    c.set(i, i32_add(get(i), i32(4)));
  });
  c.returnValue(get(count));
}

/** `all_finite(n, x) -> i32`: 1 when none of n floats at x is ±∞ or NaN (x − x = 0 exactly then). */
function emitAllFinite(mb: ModuleBuilder): void {
  const fn = mb.function("all_finite", [I, I], [I]);
  const [n, x] = fn.params;
  const c = fn.body;
  const i = c.local();
  const end = c.local();
  const v = c.local(V);
  const finite = c.local(V);
  const finiteLanes = (value: Expr) => f32x4_eq(f32x4_sub(value, value), v128_zero);
  c.set(finite, f32x4_eq(v128_zero, v128_zero));
  c.set(end, i32_add(get(x), i32_shl(i32_sub(get(n), i32_and(get(n), i32(3))), i32(2))));
  c.set(i, get(x));
  c.while(i32_lt_u(get(i), get(end)), () => {
    c.set(v, v128_load(get(i)));
    c.set(finite, v128_and(get(finite), finiteLanes(get(v))));
    c.set(i, i32_add(get(i), i32(16)));
  });
  c.set(end, i32_add(get(x), i32_shl(get(n), i32(2))));
  c.while(i32_lt_u(get(i), get(end)), () => {
    c.set(v, v128_load32_splat(get(i)));
    c.set(finite, v128_and(get(finite), finiteLanes(get(v))));
    c.set(i, i32_add(get(i), i32(4)));
  });
  const lane = (k: number) => i32x4_extract_lane(get(finite), k);
  c.returnValue(i32_eq(i32_and(i32_and(lane(0), lane(1)), i32_and(lane(2), lane(3))), i32(-1)));
}
