/**
 * Generator of the single-precision GEMM kernels: C = op(A)·op(B) (+ C), row-major.
 *
 * Design (reasons and figures in docs/cpu-kernels.md): op(B) is packed into panels of 8
 * columns, k-major and zero-padded, so the inner loop streams one contiguous panel; a 4×8
 * register tile keeps 8 f32x4 accumulators, which is what Node 20's ~15 usable vector registers
 * allow without spilling. When few rows share a panel, full panels of an untransposed B are
 * read in place instead (a row stride rather than 32 bytes), which saves the copy. op(A) is
 * read in place through two byte strides (rows, k), so A and Aᵀ need no packing. Every element
 * of C is summed over k in the same order whatever the tile, block or thread that computes it,
 * so results do not depend on how the work is split.
 */
import {
  type Code,
  type Expr,
  type FunctionBuilder,
  f32,
  f32_add,
  f32_load,
  f32x4_add,
  f32x4_extract_lane,
  f32x4_madd,
  get,
  i32,
  i32_add,
  i32_and,
  i32_div_u,
  i32_eq,
  i32_eqz,
  i32_lt_s,
  i32_lt_u,
  i32_min_s,
  i32_mul,
  i32_ne,
  i32_or,
  i32_rem_u,
  i32_shl,
  i32_shr_u,
  i32_sub,
  type Local,
  type ModuleBuilder,
  select,
  v128_load,
  v128_load32_splat,
  ValType,
} from "./emitter.js";
import { jobParam } from "./job.js";
import type { SimdFlavour } from "./features.js";

/** Columns per packed panel of op(B) (two f32x4). */
export const PANEL = 8;
/** Rows of the register tile. */
export const TILE_ROWS = 4;

/** Job parameter slots of a GEMM job (see {@link emitGemm}'s `gemm_chunk`). */
export const GemmParam = {
  M: 0,
  N: 1,
  K: 2,
  A: 3,
  lda: 4,
  transA: 5,
  B: 6,
  ldb: 7,
  transB: 8,
  Bp: 9,
  C: 10,
  ldc: 11,
  beta: 12,
  mc: 13,
  rowsPerChunk: 14,
  panelsPerChunk: 15,
  panelChunks: 16,
  packInChunk: 17,
  direct: 18,
} as const;

/**
 * Job parameter slots of a summed, grouped GEMM job (see {@link emitGemmSumChunk}):
 * C_g = beta0·C_g + Σ_n A_{g,n}·B_{g,n} for groups g and batch items n, with byte strides
 * between items (sA, sB) and between groups (sAg, sBg, sCg). A and B are untransposed.
 */
export const GemmSumParam = {
  M: 0,
  N: 1,
  K: 2,
  A: 3,
  lda: 4,
  sA: 5,
  sAg: 6,
  B: 7,
  ldb: 8,
  sB: 9,
  sBg: 10,
  C: 11,
  ldc: 12,
  sCg: 13,
  batch: 14,
  beta0: 15,
  direct: 16,
  mc: 17,
  scratch: 18,
  scratchStride: 19,
  panelsPerChunk: 20,
  panelChunks: 21,
  rowsPerChunk: 22,
  rowChunks: 23,
} as const;

/** The GEMM functions added to a module. */
export interface GemmFunctions {
  packB: FunctionBuilder;
  gemmBlock: FunctionBuilder;
  gemmChunk: FunctionBuilder;
  gemmSumChunk: FunctionBuilder;
}

const I = ValType.i32;
const V = ValType.v128;

/** Adds `pack_b`, `gemm_block`, the 1- to 4-row tiles and `gemm_chunk` to a module. */
export function emitGemm(mb: ModuleBuilder, flavour: SimdFlavour): GemmFunctions {
  const packB = emitPackB(mb);
  const tiles = [1, 2, 3, 4].map((rows) => emitTile(mb, rows, flavour));
  const gemmBlock = emitGemmBlock(mb, tiles);
  const gemmChunk = emitGemmChunk(mb, packB, gemmBlock);
  const gemmSumChunk = emitGemmSumChunk(mb, packB, gemmBlock);
  return { packB, gemmBlock, gemmChunk, gemmSumChunk };
}

/** `acc += x * b`, fused in one instruction when relaxed SIMD is available. */
function madd(c: Code, flavour: SimdFlavour, acc: Local, x: Local, b: Local): void {
  c.set(acc, f32x4_madd(flavour, get(x), get(b), get(acc)));
}

/**
 * `pack_b(K, N, B, ldb, transB, direct, Bp, p0, p1)`: copies panels p0..p1-1 of op(B) (K×N)
 * to Bp; panel p holds columns 8p..8p+7 as K rows of 8 floats (32 bytes), zero past column N.
 * With `direct` (untransposed B only), full panels are skipped: `gemm_block` reads them in B.
 */
function emitPackB(mb: ModuleBuilder): FunctionBuilder {
  const fn = mb.function("pack_b", new Array<ValType>(9).fill(I));
  const [K, N, B, ldb, transB, direct, Bp, p0, p1] = fn.params;
  const c = fn.body;
  const ldb4 = c.local();
  const panelBytes = c.local();
  const p = c.local();
  const dst = c.local();
  const end = c.local();
  const src = c.local();
  const j0 = c.local();
  const nc = c.local();
  const col = c.local();
  const kStep = c.local();
  const cursor = c.local();

  c.set(ldb4, i32_shl(get(ldb), i32(2)));
  c.set(panelBytes, i32_shl(get(K), i32(5)));
  // element (k, j) of op(B) is at B + (k*ldb + j)*4, or B + (j*ldb + k)*4 when transposed
  c.set(kStep, select(i32(4), get(ldb4), get(transB)));
  c.for(p, get(p0), get(p1), 1, () => {
    c.set(dst, i32_add(get(Bp), i32_mul(get(p), get(panelBytes))));
    c.set(j0, i32_shl(get(p), i32(3)));
    c.set(nc, i32_min_s(i32(PANEL), i32_sub(get(N), get(j0))));
    c.set(end, i32_add(get(dst), get(panelBytes)));
    c.if(
      i32_eqz(i32_or(get(transB), i32_ne(get(nc), i32(PANEL)))),
      () =>
        c.if(i32_eqz(get(direct)), () => {
          // a full panel of untransposed B: each k is 8 adjacent floats, two vector copies
          c.set(src, i32_add(get(B), i32_shl(get(j0), i32(2))));
          c.while(i32_ne(get(dst), get(end)), () => {
            c.store("v128", get(dst), v128_load(get(src)));
            c.store("v128", get(dst), v128_load(get(src), 16), 16);
            c.set(src, i32_add(get(src), get(ldb4)));
            c.set(dst, i32_add(get(dst), i32(32)));
          });
        }),
      () => {
        // Bᵀ or a ragged last panel: column by column, zeros past N
        c.for(col, i32(0), i32(PANEL), 1, () => {
          c.set(cursor, i32_add(get(dst), i32_shl(get(col), i32(2))));
          c.set(end, i32_add(get(cursor), get(panelBytes)));
          c.if(
            i32_lt_s(get(col), get(nc)),
            () => {
              const j = i32_add(get(j0), get(col));
              c.set(src, i32_add(get(B), select(i32_mul(j, get(ldb4)), i32_shl(j, i32(2)), get(transB))));
              c.while(i32_ne(get(cursor), get(end)), () => {
                c.store("f32", get(cursor), f32_load(get(src)));
                c.set(src, i32_add(get(src), get(kStep)));
                c.set(cursor, i32_add(get(cursor), i32(32)));
              });
            },
            () =>
              c.while(i32_ne(get(cursor), get(end)), () => {
                c.store("f32", get(cursor), f32(0));
                c.set(cursor, i32_add(get(cursor), i32(32)));
              }),
          );
        });
      },
    );
  });
  return fn;
}

/**
 * `tile{rows}x8(a, lda4, transA, bp, bStep, K, c, ldc4, nc, beta)`: rows×8 block of C at
 * byte offset c (row stride ldc4 bytes; only the first nc ≤ 8 columns are written) from
 * op(A)'s rows at a (k = 0) and a panel of 8 columns of B at bp, whose k-th row starts
 * bStep bytes after the previous one. beta = 1 adds to C, 0 overwrites it.
 */
function emitTile(mb: ModuleBuilder, rows: number, flavour: SimdFlavour): FunctionBuilder {
  const fn = mb.function(`tile${rows}x8`, new Array<ValType>(10).fill(I), [], { export: false });
  const [a, lda4, transA, bp, bStep, K, cPtr, ldc4, nc, beta] = fn.params;
  const c = fn.body;
  // wasm zero-initialises locals, so the accumulators start at 0
  const acc = Array.from({ length: rows }, () => [c.local(V), c.local(V)] as const);
  const b0 = c.local(V);
  const b1 = c.local(V);
  const x = c.local(V);
  const bpEnd = c.local();
  const rowPtr = Array.from({ length: rows }, (_, r) => (r === 0 ? a : c.local()));

  /** One k step: load the panel row, then rank-1 update of every accumulator row. */
  const step = (loadA: (r: number) => Expr) => {
    c.set(b0, v128_load(get(bp)));
    c.set(b1, v128_load(get(bp), 16));
    for (let r = 0; r < rows; r++) {
      c.set(x, loadA(r));
      madd(c, flavour, acc[r][0], x, b0);
      madd(c, flavour, acc[r][1], x, b1);
    }
    c.set(bp, i32_add(get(bp), get(bStep)));
  };

  c.if(i32_ne(get(K), i32(0)), () => {
    c.set(bpEnd, i32_add(get(bp), i32_mul(get(K), get(bStep))));
    c.if(
      get(transA),
      () => {
        // Aᵀ stored K×M: the tile's values for one k are adjacent, one pointer suffices
        c.doWhile(
          () => {
            step((r) => v128_load32_splat(get(a), 4 * r));
            c.set(a, i32_add(get(a), get(lda4)));
          },
          i32_ne(get(bp), get(bpEnd)),
        );
      },
      () => {
        for (let r = 1; r < rows; r++) c.set(rowPtr[r], i32_add(get(rowPtr[r - 1]), get(lda4)));
        c.doWhile(
          () => {
            step((r) => v128_load32_splat(get(rowPtr[r])));
            for (const ptr of rowPtr) c.set(ptr, i32_add(get(ptr), i32(4)));
          },
          i32_ne(get(bp), get(bpEnd)),
        );
      },
    );
  });

  // write back: whole vectors for a full panel, lane by lane for the ragged last one
  const rowC = c.local();
  const writeRows = (write: (r: number) => void) => {
    c.set(rowC, get(cPtr));
    for (let r = 0; r < rows; r++) {
      if (r > 0) c.set(rowC, i32_add(get(rowC), get(ldc4)));
      write(r);
    }
  };
  c.if(
    i32_eq(get(nc), i32(PANEL)),
    () =>
      c.if(
        get(beta),
        () =>
          writeRows((r) => {
            c.store("v128", get(rowC), f32x4_add(v128_load(get(rowC)), get(acc[r][0])));
            c.store("v128", get(rowC), f32x4_add(v128_load(get(rowC), 16), get(acc[r][1])), 16);
          }),
        () =>
          writeRows((r) => {
            c.store("v128", get(rowC), get(acc[r][0]));
            c.store("v128", get(rowC), get(acc[r][1]), 16);
          }),
      ),
    () =>
      // ragged last panel (nc < 8): a whole vector for columns 0-3 if they exist, then lanes
      writeRows((r) => {
        const lanes = (from: number, to: number) => {
          for (let lane = from; lane < to; lane++) {
            const value = f32x4_extract_lane(get(acc[r][lane >> 2]), lane & 3);
            c.if(i32_lt_u(i32(lane), get(nc)), () =>
              c.if(
                get(beta),
                () => c.store("f32", get(rowC), f32_add(f32_load(get(rowC), 4 * lane), value), 4 * lane),
                () => c.store("f32", get(rowC), value, 4 * lane),
              ),
            );
          }
        };
        c.if(
          i32_lt_u(get(nc), i32(4)),
          () => lanes(0, 3),
          () => {
            c.if(
              get(beta),
              () => c.store("v128", get(rowC), f32x4_add(v128_load(get(rowC)), get(acc[r][0]))),
              () => c.store("v128", get(rowC), get(acc[r][0])),
            );
            lanes(4, 7);
          },
        );
      }),
  );
  return fn;
}

/**
 * `gemm_block(i0, i1, p0, p1, N, K, A, lda, transA, B, ldb, direct, Bp, C, ldc, beta, mc)`:
 * rows i0..i1-1 and panels p0..p1-1 of C from op(B) packed by `pack_b` at Bp (with the same
 * `direct`). Rows go in blocks of mc (a multiple of 4) so a block of A stays in L2 while every
 * panel streams past it; i0 must be a multiple of 4.
 */
function emitGemmBlock(mb: ModuleBuilder, tiles: readonly FunctionBuilder[]): FunctionBuilder {
  const fn = mb.function("gemm_block", new Array<ValType>(17).fill(I));
  const [i0, i1, p0, p1, N, K, A, lda, transA, B, ldb, direct, Bp, C, ldc, beta, mc] = fn.params;
  const c = fn.body;
  const lda4 = c.local();
  const ldc4 = c.local();
  const rowStep = c.local();
  const ib = c.local();
  const ie = c.local();
  const p = c.local();
  const bp = c.local();
  const bStep = c.local();
  const nc = c.local();
  const i = c.local();
  const aPtr = c.local();
  const cPtr = c.local();
  const rest = c.local();

  c.set(lda4, i32_shl(get(lda), i32(2)));
  c.set(ldc4, i32_shl(get(ldc), i32(2)));
  // bytes between consecutive rows of op(A)
  c.set(rowStep, select(i32(4), get(lda4), get(transA)));
  const tileArgs = () => [get(aPtr), get(lda4), get(transA), get(bp), get(bStep), get(K), get(cPtr), get(ldc4), get(nc), get(beta)];

  c.set(ib, get(i0));
  c.while(i32_lt_s(get(ib), get(i1)), () => {
    c.set(ie, i32_add(get(ib), get(mc)));
    c.set(ie, i32_min_s(get(ie), get(i1)));
    c.for(p, get(p0), get(p1), 1, () => {
      c.set(nc, i32_min_s(i32(PANEL), i32_sub(get(N), i32_shl(get(p), i32(3)))));
      c.if(
        i32_and(get(direct), i32_eq(get(nc), i32(PANEL))),
        () => {
          c.set(bp, i32_add(get(B), i32_shl(get(p), i32(5))));
          c.set(bStep, i32_shl(get(ldb), i32(2)));
        },
        () => {
          c.set(bp, i32_add(get(Bp), i32_mul(get(p), i32_shl(get(K), i32(5)))));
          c.set(bStep, i32(32));
        },
      );
      c.set(i, get(ib));
      c.set(aPtr, i32_add(get(A), i32_mul(get(i), get(rowStep))));
      c.set(cPtr, i32_add(get(C), i32_add(i32_mul(get(i), get(ldc4)), i32_shl(get(p), i32(5)))));
      c.while(i32_lt_s(i32_add(get(i), i32(TILE_ROWS - 1)), get(ie)), () => {
        c.call(tiles[TILE_ROWS - 1], ...tileArgs());
        c.set(i, i32_add(get(i), i32(TILE_ROWS)));
        c.set(aPtr, i32_add(get(aPtr), i32_shl(get(rowStep), i32(2))));
        c.set(cPtr, i32_add(get(cPtr), i32_shl(get(ldc4), i32(2))));
      });
      c.set(rest, i32_sub(get(ie), get(i)));
      for (let rows = 1; rows < TILE_ROWS; rows++) {
        c.if(i32_eq(get(rest), i32(rows)), () => c.call(tiles[rows - 1], ...tileArgs()));
      }
    });
    c.set(ib, get(ie));
  });
  return fn;
}

/**
 * `gemm_chunk(job, chunk, thread)`: one chunk of a GEMM job. Chunks form a grid of row
 * blocks × panel blocks, row-major; when the rows are not split (`packInChunk`), a chunk
 * packs its own panels of B, so packing is shared out among threads as well.
 */
function emitGemmChunk(mb: ModuleBuilder, packB: FunctionBuilder, gemmBlock: FunctionBuilder): FunctionBuilder {
  const fn = mb.function("gemm_chunk", [I, I, I], [], { export: false });
  const [jobPtr, chunk] = fn.params;
  const c = fn.body;
  const P = (slot: number) => jobParam(get(jobPtr), slot);
  const panelChunks = c.local();
  const i0 = c.local();
  const i1 = c.local();
  const p0 = c.local();
  const p1 = c.local();
  const panels = c.local();
  const M = c.local();

  c.set(panelChunks, P(GemmParam.panelChunks));
  c.set(M, P(GemmParam.M));
  c.set(panels, i32_shr_u(i32_add(P(GemmParam.N), i32(PANEL - 1)), i32(3)));
  c.set(i0, i32_mul(i32_div_u(get(chunk), get(panelChunks)), P(GemmParam.rowsPerChunk)));
  c.set(i1, i32_add(get(i0), P(GemmParam.rowsPerChunk)));
  c.set(i1, i32_min_s(get(i1), get(M)));
  c.set(p0, i32_mul(i32_rem_u(get(chunk), get(panelChunks)), P(GemmParam.panelsPerChunk)));
  c.set(p1, i32_add(get(p0), P(GemmParam.panelsPerChunk)));
  c.set(p1, i32_min_s(get(p1), get(panels)));
  c.if(P(GemmParam.packInChunk), () =>
    c.call(
      packB,
      P(GemmParam.K),
      P(GemmParam.N),
      P(GemmParam.B),
      P(GemmParam.ldb),
      P(GemmParam.transB),
      P(GemmParam.direct),
      P(GemmParam.Bp),
      get(p0),
      get(p1),
    ),
  );
  c.call(
    gemmBlock,
    get(i0),
    get(i1),
    get(p0),
    get(p1),
    P(GemmParam.N),
    P(GemmParam.K),
    P(GemmParam.A),
    P(GemmParam.lda),
    P(GemmParam.transA),
    P(GemmParam.B),
    P(GemmParam.ldb),
    P(GemmParam.direct),
    P(GemmParam.Bp),
    P(GemmParam.C),
    P(GemmParam.ldc),
    P(GemmParam.beta),
    P(GemmParam.mc),
  );
  return fn;
}

/**
 * `gemm_sum_chunk(job, chunk, thread)`: one chunk of a summed GEMM job (see
 * {@link GemmSumParam}). Chunks are (group, row block, panel block) triples, and each runs through the
 * batch in order, adding item n's product to C: every element of C is summed item by item,
 * and over k within an item, whichever thread owns it, so the split never changes a bit.
 * Panels of B_n that must be packed go to the thread's own scratch (B differs per item).
 */
function emitGemmSumChunk(mb: ModuleBuilder, packB: FunctionBuilder, gemmBlock: FunctionBuilder): FunctionBuilder {
  const fn = mb.function("gemm_sum_chunk", [I, I, I], [], { export: false });
  const [jobPtr, chunk, thread] = fn.params;
  const c = fn.body;
  const P = (slot: number) => jobParam(get(jobPtr), slot);
  const group = c.local();
  const p0 = c.local();
  const p1 = c.local();
  const i0 = c.local();
  const i1 = c.local();
  const panels = c.local();
  const a = c.local();
  const b = c.local();
  const cPtr = c.local();
  const Bp = c.local();
  const beta = c.local();
  const n = c.local();
  const perGroup = c.local();
  const inGroup = c.local();

  // chunk = (group · rowChunks + rowChunk) · panelChunks + panelChunk
  c.set(perGroup, i32_mul(P(GemmSumParam.rowChunks), P(GemmSumParam.panelChunks)));
  c.set(group, i32_div_u(get(chunk), get(perGroup)));
  c.set(inGroup, i32_rem_u(get(chunk), get(perGroup)));
  c.set(i0, i32_mul(i32_div_u(get(inGroup), P(GemmSumParam.panelChunks)), P(GemmSumParam.rowsPerChunk)));
  c.set(i1, i32_add(get(i0), P(GemmSumParam.rowsPerChunk)));
  c.set(i1, i32_min_s(get(i1), P(GemmSumParam.M)));
  c.set(panels, i32_shr_u(i32_add(P(GemmSumParam.N), i32(PANEL - 1)), i32(3)));
  c.set(p0, i32_mul(i32_rem_u(get(inGroup), P(GemmSumParam.panelChunks)), P(GemmSumParam.panelsPerChunk)));
  c.set(p1, i32_add(get(p0), P(GemmSumParam.panelsPerChunk)));
  c.set(p1, i32_min_s(get(p1), get(panels)));
  c.set(a, i32_add(P(GemmSumParam.A), i32_mul(get(group), P(GemmSumParam.sAg))));
  c.set(b, i32_add(P(GemmSumParam.B), i32_mul(get(group), P(GemmSumParam.sBg))));
  c.set(cPtr, i32_add(P(GemmSumParam.C), i32_mul(get(group), P(GemmSumParam.sCg))));
  c.set(Bp, i32_add(P(GemmSumParam.scratch), i32_mul(get(thread), P(GemmSumParam.scratchStride))));
  c.set(beta, P(GemmSumParam.beta0));
  c.for(n, i32(0), P(GemmSumParam.batch), 1, () => {
    // with `direct`, pack_b packs only a ragged last panel; full ones are read in place
    c.call(packB, P(GemmSumParam.K), P(GemmSumParam.N), get(b), P(GemmSumParam.ldb), i32(0), P(GemmSumParam.direct), get(Bp), get(p0), get(p1));
    c.call(
      gemmBlock,
      get(i0),
      get(i1),
      get(p0),
      get(p1),
      P(GemmSumParam.N),
      P(GemmSumParam.K),
      get(a),
      P(GemmSumParam.lda),
      i32(0),
      get(b),
      P(GemmSumParam.ldb),
      P(GemmSumParam.direct),
      get(Bp),
      get(cPtr),
      P(GemmSumParam.ldc),
      get(beta),
      P(GemmSumParam.mc),
    );
    c.set(a, i32_add(get(a), P(GemmSumParam.sA)));
    c.set(b, i32_add(get(b), P(GemmSumParam.sB)));
    c.set(beta, i32(1));
  });
  return fn;
}
