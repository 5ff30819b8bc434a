/**
 * Generator of `im2col` for NCHW convolution: unfolds every receptive field into a row, so a
 * convolution becomes one GEMM, `out[(n,oh,ow), co] = cols · Wᵀ` with `cols[(n,oh,ow),
 * (c,i,j)]` (M = N·OH·OW, K = C·kh·kw; LeNet's shapes are in docs/cpu-kernels.md). Done in wasm
 * because in plain TypeScript it took about as long as the GEMM it feeds (docs/cpu-kernels.md,
 * "Convolutions").
 */
import {
  type FunctionBuilder,
  f32,
  f32_add,
  f32_load,
  f32x4_add,
  get,
  i32,
  i32_add,
  i32_and,
  i32_eq,
  i32_ge_s,
  i32_lt_s,
  i32_lt_u,
  i32_min_s,
  i32_mul,
  i32_shl,
  i32_sub,
  type ModuleBuilder,
  ValType,
  v128_load,
  v128_zero,
} from "./emitter.js";
import { jobParam } from "./job.js";

/** Job parameter slots 0-13, shared by every job that walks a convolution's geometry. */
export const GeometryParam = {
  X: 0,
  C: 1,
  H: 2,
  W: 3,
  kh: 4,
  kw: 5,
  sh: 6,
  sw: 7,
  ph: 8,
  pw: 9,
  dh: 10,
  dw: 11,
  OH: 12,
  OW: 13,
} as const;

/** Job parameter slots of an im2col job; chunks are ranges of images. */
export const Im2colParam = {
  ...GeometryParam,
  out: 14,
  images: 15,
  imagesPerChunk: 16,
} as const;

const I = ValType.i32;
/** The geometry arguments im2col and col2im take after X, in their order. */
export const GEOMETRY_ARGS = ["C", "H", "W", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "OH", "OW"] as const;
const PARAMS = ["X", ...GEOMETRY_ARGS, "out"] as const;

/** The im2col functions added to a module. */
export interface Im2colFunctions {
  im2col: FunctionBuilder;
  im2colChunk: FunctionBuilder;
  col2im: FunctionBuilder;
}

/**
 * Adds `im2col(n0, n1, X, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, out)` (images
 * n0..n1-1; out points at the whole matrix, row 0 = image 0), its job chunk function, and
 * its adjoint `col2im` (see {@link emitCol2im}).
 */
export function emitIm2col(mb: ModuleBuilder): Im2colFunctions {
  const im2col = emitIm2colImages(mb);
  const col2im = emitCol2im(mb);
  const fn = mb.function("im2col_chunk", [I, I, I], [], { export: false });
  const [jobPtr, chunk] = fn.params;
  const c = fn.body;
  const n0 = c.local();
  const per = jobParam(get(jobPtr), Im2colParam.imagesPerChunk);
  c.set(n0, i32_mul(get(chunk), per));
  const n1 = c.local();
  c.set(n1, i32_add(get(n0), per));
  c.set(n1, i32_min_s(get(n1), jobParam(get(jobPtr), Im2colParam.images)));
  c.call(im2col, get(n0), get(n1), ...PARAMS.map((name) => jobParam(get(jobPtr), Im2colParam[name])));
  return { im2col, im2colChunk: fn, col2im };
}

function emitIm2colImages(mb: ModuleBuilder): FunctionBuilder {
  const fn = mb.function("im2col", new Array<ValType>(17).fill(I));
  const [n0, n1, X, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, out] = fn.params;
  const c = fn.body;
  const n = c.local();
  const oh = c.local();
  const ow = c.local();
  const ch = c.local();
  const i = c.local();
  const j = c.local();
  const ih = c.local();
  const iw = c.local();
  const ih0 = c.local();
  const iw0 = c.local();
  const image = c.local();
  const plane = c.local();
  const row = c.local();
  const dst = c.local();
  const src = c.local();
  const planeBytes = c.local();
  const rowStep = c.local();
  const rowsInside = c.local();
  const colsInside = c.local();

  /** Copies kw adjacent floats from `src` to `dst`, four at a time, advancing both. */
  const copyWindowRow = () => {
    c.set(j, i32(0));
    c.while(i32_lt_s(i32_add(get(j), i32(3)), get(kw)), () => {
      c.store("v128", get(dst), v128_load(get(src)));
      c.set(src, i32_add(get(src), i32(16)));
      c.set(dst, i32_add(get(dst), i32(16)));
      c.set(j, i32_add(get(j), i32(4)));
    });
    c.while(i32_lt_s(get(j), get(kw)), () => {
      c.store("f32", get(dst), f32_load(get(src)));
      c.set(src, i32_add(get(src), i32(4)));
      c.set(dst, i32_add(get(dst), i32(4)));
      c.set(j, i32_add(get(j), i32(1)));
    });
  };
  const zeros = () =>
    c.for(j, i32(0), get(kw), 1, () => {
      c.store("f32", get(dst), f32(0));
      c.set(dst, i32_add(get(dst), i32(4)));
    });

  c.set(planeBytes, i32_shl(i32_mul(get(H), get(W)), i32(2)));
  c.set(rowStep, i32_shl(i32_mul(get(dh), get(W)), i32(2)));
  // row (n, oh, ow) of the output starts at ((n*OH + oh)*OW + ow) * C*kh*kw floats
  c.set(dst, i32_add(get(out), i32_shl(i32_mul(i32_mul(get(n0), i32_mul(get(OH), get(OW))), i32_mul(get(C), i32_mul(get(kh), get(kw)))), i32(2))));
  c.for(n, get(n0), get(n1), 1, () => {
    c.set(image, i32_add(get(X), i32_mul(get(n), i32_mul(get(C), get(planeBytes)))));
    c.for(oh, i32(0), get(OH), 1, () => {
      c.set(ih0, i32_sub(i32_mul(get(oh), get(sh)), get(ph)));
      // does every window row of this output row fall inside the image?
      c.set(rowsInside, i32_and(i32_ge_s(get(ih0), i32(0)), i32_lt_s(i32_add(get(ih0), i32_mul(i32_sub(get(kh), i32(1)), get(dh))), get(H))));
      c.for(ow, i32(0), get(OW), 1, () => {
        c.set(iw0, i32_sub(i32_mul(get(ow), get(sw)), get(pw)));
        // with dilation 1 and no padding in reach, a window row is kw adjacent floats
        c.set(colsInside, i32_and(i32_eq(get(dw), i32(1)), i32_and(i32_ge_s(get(iw0), i32(0)), i32_lt_s(i32_add(get(iw0), get(kw)), i32_add(get(W), i32(1))))));
        c.if(
          i32_and(get(rowsInside), get(colsInside)),
          () =>
            // the common case (all windows of a valid convolution): plain copies, no checks
            c.for(ch, i32(0), get(C), 1, () => {
              c.set(row, i32_add(i32_add(get(image), i32_mul(get(ch), get(planeBytes))), i32_shl(i32_add(i32_mul(get(ih0), get(W)), get(iw0)), i32(2))));
              c.for(i, i32(0), get(kh), 1, () => {
                c.set(src, get(row));
                copyWindowRow();
                c.set(row, i32_add(get(row), get(rowStep)));
              });
            }),
          () =>
            c.for(ch, i32(0), get(C), 1, () => {
              c.set(plane, i32_add(get(image), i32_mul(get(ch), get(planeBytes))));
              c.for(i, i32(0), get(kh), 1, () => {
                c.set(ih, i32_add(get(ih0), i32_mul(get(i), get(dh))));
                // unsigned compare: a negative (padding) row is out of range too
                c.if(
                  i32_lt_u(get(ih), get(H)),
                  () => {
                    c.set(row, i32_add(get(plane), i32_shl(i32_mul(get(ih), get(W)), i32(2))));
                    c.if(
                      get(colsInside),
                      () => {
                        c.set(src, i32_add(get(row), i32_shl(get(iw0), i32(2))));
                        copyWindowRow();
                      },
                      () =>
                        c.for(j, i32(0), get(kw), 1, () => {
                          c.set(iw, i32_add(get(iw0), i32_mul(get(j), get(dw))));
                          c.if(
                            i32_lt_u(get(iw), get(W)),
                            () => c.store("f32", get(dst), f32_load(i32_add(get(row), i32_shl(get(iw), i32(2))))),
                            () => c.store("f32", get(dst), f32(0)),
                          );
                          c.set(dst, i32_add(get(dst), i32(4)));
                        }),
                    );
                  },
                  zeros,
                );
              });
            }),
        );
      });
    });
  });
  return fn;
}

/**
 * `col2im(X, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, cols)`: the adjoint of im2col
 * for one image. Zeroes the image at X ([C, H, W]) and adds every entry of `cols`
 * (OH·OW rows of C·kh·kw) back to the pixel it was copied from; entries that came from
 * padding are dropped. Rows are visited in order, so each pixel sums its windows in a fixed
 * order (the gradient of a convolution's input, bit-identical however images are shared out).
 */
function emitCol2im(mb: ModuleBuilder): FunctionBuilder {
  const fn = mb.function("col2im", new Array<ValType>(15).fill(I));
  const [X, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, cols] = fn.params;
  const c = fn.body;
  const oh = c.local();
  const ow = c.local();
  const ch = c.local();
  const i = c.local();
  const j = c.local();
  const ih = c.local();
  const iw = c.local();
  const ih0 = c.local();
  const iw0 = c.local();
  const plane = c.local();
  const row = c.local();
  const dst = c.local();
  const src = c.local();
  const end = c.local();
  const planeBytes = c.local();
  const rowStep = c.local();
  const rowsInside = c.local();
  const colsInside = c.local();

  /** Adds kw floats at `src` to kw adjacent floats at `dst`, four at a time, advancing both. */
  const addWindowRow = () => {
    c.set(j, i32(0));
    c.while(i32_lt_s(i32_add(get(j), i32(3)), get(kw)), () => {
      c.store("v128", get(dst), f32x4_add(v128_load(get(dst)), v128_load(get(src))));
      c.set(src, i32_add(get(src), i32(16)));
      c.set(dst, i32_add(get(dst), i32(16)));
      c.set(j, i32_add(get(j), i32(4)));
    });
    c.while(i32_lt_s(get(j), get(kw)), () => {
      c.store("f32", get(dst), f32_add(f32_load(get(dst)), f32_load(get(src))));
      c.set(src, i32_add(get(src), i32(4)));
      c.set(dst, i32_add(get(dst), i32(4)));
      c.set(j, i32_add(get(j), i32(1)));
    });
  };

  c.set(planeBytes, i32_shl(i32_mul(get(H), get(W)), i32(2)));
  c.set(rowStep, i32_shl(i32_mul(get(dh), get(W)), i32(2)));
  // zero the image: whole vectors, then the odd floats
  c.set(dst, get(X));
  c.set(end, i32_add(get(X), i32_mul(get(C), get(planeBytes))));
  c.while(i32_lt_s(i32_add(get(dst), i32(15)), get(end)), () => {
    c.store("v128", get(dst), v128_zero);
    c.set(dst, i32_add(get(dst), i32(16)));
  });
  c.while(i32_lt_s(get(dst), get(end)), () => {
    c.store("f32", get(dst), f32(0));
    c.set(dst, i32_add(get(dst), i32(4)));
  });

  c.set(src, get(cols));
  c.for(oh, i32(0), get(OH), 1, () => {
    c.set(ih0, i32_sub(i32_mul(get(oh), get(sh)), get(ph)));
    c.set(rowsInside, i32_and(i32_ge_s(get(ih0), i32(0)), i32_lt_s(i32_add(get(ih0), i32_mul(i32_sub(get(kh), i32(1)), get(dh))), get(H))));
    c.for(ow, i32(0), get(OW), 1, () => {
      c.set(iw0, i32_sub(i32_mul(get(ow), get(sw)), get(pw)));
      c.set(colsInside, i32_and(i32_eq(get(dw), i32(1)), i32_and(i32_ge_s(get(iw0), i32(0)), i32_lt_s(i32_add(get(iw0), get(kw)), i32_add(get(W), i32(1))))));
      c.if(
        i32_and(get(rowsInside), get(colsInside)),
        () =>
          c.for(ch, i32(0), get(C), 1, () => {
            c.set(row, i32_add(i32_add(get(X), i32_mul(get(ch), get(planeBytes))), i32_shl(i32_add(i32_mul(get(ih0), get(W)), get(iw0)), i32(2))));
            c.for(i, i32(0), get(kh), 1, () => {
              c.set(dst, get(row));
              addWindowRow();
              c.set(row, i32_add(get(row), get(rowStep)));
            });
          }),
        () =>
          c.for(ch, i32(0), get(C), 1, () => {
            c.set(plane, i32_add(get(X), i32_mul(get(ch), get(planeBytes))));
            c.for(i, i32(0), get(kh), 1, () => {
              c.set(ih, i32_add(get(ih0), i32_mul(get(i), get(dh))));
              c.if(
                i32_lt_u(get(ih), get(H)),
                () => {
                  c.set(row, i32_add(get(plane), i32_shl(i32_mul(get(ih), get(W)), i32(2))));
                  c.if(
                    get(colsInside),
                    () => {
                      c.set(dst, i32_add(get(row), i32_shl(get(iw0), i32(2))));
                      addWindowRow();
                    },
                    () =>
                      c.for(j, i32(0), get(kw), 1, () => {
                        c.set(iw, i32_add(get(iw0), i32_mul(get(j), get(dw))));
                        c.if(i32_lt_u(get(iw), get(W)), () => {
                          c.set(dst, i32_add(get(row), i32_shl(get(iw), i32(2))));
                          c.store("f32", get(dst), f32_add(f32_load(get(dst)), f32_load(get(src))));
                        });
                        c.set(src, i32_add(get(src), i32(4)));
                      }),
                  );
                },
                // a window row in the padding: its entries are dropped
                () => c.set(src, i32_add(get(src), i32_shl(get(kw), i32(2)))),
              );
            });
          }),
      );
    });
  });
  return fn;
}
