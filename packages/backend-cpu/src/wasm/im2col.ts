/**
 * Generator of `im2col` for NCHW convolution: unfolds every receptive field into a row, so
 * a convolution becomes one GEMM, `out[(n,oh,ow), co] = cols · Wᵀ` with
 * `cols[(n,oh,ow), (c,i,j)]` (M = N·OH·OW, K = C·kh·kw, the LeNet shapes of CPU-KERNELS.md).
 * Done in wasm because in plain JS it cost as much as the GEMM itself (1.42 vs 0.14 ms for
 * LeNet's conv2 at batch 20).
 */
import {
  type FunctionBuilder,
  f32,
  f32_load,
  get,
  i32,
  i32_add,
  i32_lt_u,
  i32_min_s,
  i32_mul,
  i32_shl,
  i32_sub,
  type Local,
  type ModuleBuilder,
  ValType,
} from "./emitter.js";
import { jobParam } from "./job.js";

/** Job parameter slots of an im2col job; chunks are ranges of images. */
export const Im2colParam = {
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
  out: 14,
  images: 15,
  imagesPerChunk: 16,
} as const;

const I = ValType.i32;
const PARAMS = ["X", "C", "H", "W", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "OH", "OW", "out"] as const;

/** The im2col functions added to a module. */
export interface Im2colFunctions {
  im2col: FunctionBuilder;
  im2colChunk: FunctionBuilder;
}

/**
 * Adds `im2col(n0, n1, X, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, out)` (images
 * n0..n1-1; out points at the whole matrix, row 0 = image 0) and its job chunk function.
 */
export function emitIm2col(mb: ModuleBuilder): Im2colFunctions {
  const im2col = emitIm2colImages(mb);
  const fn = mb.function("im2col_chunk", [I, I], [], { export: false });
  const [jobPtr, chunk] = fn.params as [Local, Local];
  const c = fn.body;
  const n0 = c.local();
  const per = jobParam(get(jobPtr), Im2colParam.imagesPerChunk);
  c.set(n0, i32_mul(get(chunk), per));
  const n1 = c.local();
  c.set(n1, i32_add(get(n0), per));
  c.set(n1, i32_min_s(get(n1), jobParam(get(jobPtr), Im2colParam.images)));
  c.call(im2col, get(n0), get(n1), ...PARAMS.map((name) => jobParam(get(jobPtr), Im2colParam[name])));
  return { im2col, im2colChunk: fn };
}

function emitIm2colImages(mb: ModuleBuilder): FunctionBuilder {
  const fn = mb.function("im2col", new Array<ValType>(17).fill(I));
  const [n0, n1, X, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, out] = fn.params as Local[] as [
    Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local,
  ];
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
  const planeBytes = c.local();

  c.set(planeBytes, i32_shl(i32_mul(get(H), get(W)), i32(2)));
  // row (n, oh, ow) of the output starts at ((n*OH + oh)*OW + ow) * C*kh*kw floats
  c.set(
    dst,
    i32_add(get(out), i32_shl(i32_mul(i32_mul(get(n0), i32_mul(get(OH), get(OW))), i32_mul(get(C), i32_mul(get(kh), get(kw)))), i32(2))),
  );
  c.for(n, get(n0), get(n1), 1, () => {
    c.set(image, i32_add(get(X), i32_mul(get(n), i32_mul(get(C), get(planeBytes)))));
    c.for(oh, i32(0), get(OH), 1, () => {
      c.set(ih0, i32_sub(i32_mul(get(oh), get(sh)), get(ph)));
      c.for(ow, i32(0), get(OW), 1, () => {
        c.set(iw0, i32_sub(i32_mul(get(ow), get(sw)), get(pw)));
        c.for(ch, i32(0), get(C), 1, () => {
          c.set(plane, i32_add(get(image), i32_mul(get(ch), get(planeBytes))));
          c.for(i, i32(0), get(kh), 1, () => {
            c.set(ih, i32_add(get(ih0), i32_mul(get(i), get(dh))));
            // unsigned compare: a negative (padding) row is out of range too
            c.if(
              i32_lt_u(get(ih), get(H)),
              () => {
                c.set(row, i32_add(get(plane), i32_shl(i32_mul(get(ih), get(W)), i32(2))));
                c.for(j, i32(0), get(kw), 1, () => {
                  c.set(iw, i32_add(get(iw0), i32_mul(get(j), get(dw))));
                  c.if(
                    i32_lt_u(get(iw), get(W)),
                    () => c.store("f32", get(dst), f32_load(i32_add(get(row), i32_shl(get(iw), i32(2))))),
                    () => c.store("f32", get(dst), f32(0)),
                  );
                  c.set(dst, i32_add(get(dst), i32(4)));
                });
              },
              () =>
                c.for(j, i32(0), get(kw), 1, () => {
                  c.store("f32", get(dst), f32(0));
                  c.set(dst, i32_add(get(dst), i32(4)));
                }),
            );
          });
        });
      });
    });
  });
  return fn;
}
