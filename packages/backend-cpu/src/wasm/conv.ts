/**
 * Generator of the convolution jobs, one image per step, NCHW in and out:
 *
 * - forward: `cols = im2col(x_n)` ([OH·OW, C·kh·kw]), then per group
 *   `y_n[g] = W_g · cols[:, g]ᵀ` ([Og, OH·OW]): the GEMM writes the NCHW output directly,
 *   so no layout change follows;
 * - input gradient: per group `dcols[:, g] = dy_n[g]ᵀ · W_g`, then `dx_n = col2im(dcols)`.
 *
 * `cols`/`dcols` and the packed panels live in the running thread's own scratch (a few
 * hundred KiB for LeNet, so they stay in L2), and images are handed out whole, so each
 * output element is computed by one thread in a fixed order: results never depend on the
 * number of threads. (The weight gradient sums over images, so it is a summed GEMM over
 * im2col'd images instead: see `gemm_sum_chunk`.)
 */
import {
  type FunctionBuilder,
  get,
  type Local,
  i32,
  i32_add,
  i32_eqz,
  i32_lt_s,
  i32_min_s,
  i32_mul,
  i32_shl,
  i32_shr_u,
  type ModuleBuilder,
  ValType,
  v128_load,
} from "./emitter.js";
import { PANEL } from "./gemm.js";
import { GEOMETRY_ARGS, GeometryParam } from "./im2col.js";
import { jobParam } from "./job.js";

/**
 * Job parameter slots of a convolution job. Slots 0-13 are im2col's geometry. `X` is the
 * [N, C, H, W] image tensor (read by the forward job, written by the input gradient), `Y`
 * the [N, O, OH, OW] one (written by the forward job, read as dy by the input gradient), and
 * `Wt` the weight: [O, K] row-major for the forward job, packed per group for the gradient.
 */
export const ConvParam = {
  ...GeometryParam,
  Wt: 14,
  Y: 15,
  groups: 16,
  /** Output channels per group. */
  Og: 17,
  /** Columns per group: C/groups·kh·kw. */
  K: 18,
  scratch: 19,
  scratchStride: 20,
  /** Where the packed panels start in a thread's scratch (after cols). */
  packOffset: 21,
  mc: 22,
  images: 23,
  imagesPerChunk: 24,
  /**
   * 1 when the forward job may pack colsᵀ straight from the image (see `pack_conv_panels`):
   * one group, stride 1, no padding or dilation, and output rows a whole number of panels.
   */
  packDirect: 25,
} as const;

const I = ValType.i32;

/** The GEMM and im2col functions the convolution jobs call. */
export interface ConvDependencies {
  packB: FunctionBuilder;
  gemmBlock: FunctionBuilder;
  im2col: FunctionBuilder;
  col2im: FunctionBuilder;
}

/** The convolution job functions added to a module. */
export interface ConvFunctions {
  convForwardChunk: FunctionBuilder;
  convBackwardInputChunk: FunctionBuilder;
}

/** Adds `conv_forward_chunk` and `conv_backward_input_chunk` (both `(job, chunk, thread)`). */
export function emitConv(mb: ModuleBuilder, deps: ConvDependencies): ConvFunctions {
  const packPanels = emitPackConvPanels(mb);
  return {
    convForwardChunk: emitConvChunk(mb, "conv_forward_chunk", deps, "forward", packPanels),
    convBackwardInputChunk: emitConvChunk(mb, "conv_backward_input_chunk", deps, "backwardInput"),
  };
}

/**
 * `pack_conv_panels(image, C, H, W, kh, kw, OH, OW, out)`: the forward GEMM's packed op(B) =
 * colsᵀ of one image, written straight from the image instead of im2col then a transposing
 * pack. Panel p holds pixels 8p..8p+7 and, for each k = (c, i, j), their 8 inputs; with stride 1
 * and OW a multiple of 8 those pixels share an output row, so the 8 inputs are adjacent in
 * the image: two vector copies per k. Same values in the same places as im2col + pack_b.
 */
function emitPackConvPanels(mb: ModuleBuilder): FunctionBuilder {
  const fn = mb.function("pack_conv_panels", new Array<ValType>(9).fill(I), [], { export: false });
  const [image, C, H, W, kh, kw, OH, OW, out] = fn.params;
  const c = fn.body;
  const oh = c.local();
  const ow = c.local();
  const ch = c.local();
  const i = c.local();
  const j = c.local();
  const dst = c.local();
  const row = c.local();
  const src = c.local();
  const planeBytes = c.local();
  const rowBytes = c.local();
  c.set(rowBytes, i32_shl(get(W), i32(2)));
  c.set(planeBytes, i32_mul(get(H), get(rowBytes)));
  c.set(dst, get(out));
  c.for(oh, i32(0), get(OH), 1, () => {
    c.set(ow, i32(0));
    c.while(i32_lt_s(get(ow), get(OW)), () => {
      c.for(ch, i32(0), get(C), 1, () => {
        c.set(row, i32_add(i32_add(get(image), i32_mul(get(ch), get(planeBytes))), i32_add(i32_mul(get(oh), get(rowBytes)), i32_shl(get(ow), i32(2)))));
        c.for(i, i32(0), get(kh), 1, () => {
          c.set(src, get(row));
          c.for(j, i32(0), get(kw), 1, () => {
            c.store("v128", get(dst), v128_load(get(src)));
            c.store("v128", get(dst), v128_load(get(src), 16), 16);
            c.set(src, i32_add(get(src), i32(4)));
            c.set(dst, i32_add(get(dst), i32(32)));
          });
          c.set(row, i32_add(get(row), get(rowBytes)));
        });
      });
      c.set(ow, i32_add(get(ow), i32(PANEL)));
    });
  });
  return fn;
}

function emitConvChunk(
  mb: ModuleBuilder,
  name: string,
  deps: ConvDependencies,
  direction: "forward" | "backwardInput",
  packPanels?: FunctionBuilder,
): FunctionBuilder {
  const fn = mb.function(name, [I, I, I], [], { export: false });
  const [jobPtr, chunk, thread] = fn.params;
  const c = fn.body;
  const P = (slot: keyof typeof ConvParam) => jobParam(get(jobPtr), ConvParam[slot]);
  const n = c.local();
  const n1 = c.local();
  const g = c.local();
  const cols = c.local();
  const packed = c.local();
  const K = c.local();
  const Ktot = c.local();
  const Og = c.local();
  const pixels = c.local();
  const panels = c.local();
  const image = c.local();
  const outImage = c.local();
  const colsOfGroup = c.local();
  const imageBytes = c.local();
  const outImageBytes = c.local();

  c.set(n, i32_mul(get(chunk), P("imagesPerChunk")));
  c.set(n1, i32_add(get(n), P("imagesPerChunk")));
  c.set(n1, i32_min_s(get(n1), P("images")));
  c.set(cols, i32_add(P("scratch"), i32_mul(get(thread), P("scratchStride"))));
  c.set(packed, i32_add(get(cols), P("packOffset")));
  c.set(K, P("K"));
  c.set(Og, P("Og"));
  c.set(Ktot, i32_mul(get(K), P("groups")));
  c.set(pixels, i32_mul(P("OH"), P("OW")));
  // forward: op(B) = colsᵀ has pixels columns; input gradient: op(B) = W_g has K columns
  c.set(panels, i32_shr_u(i32_add(direction === "forward" ? get(pixels) : get(K), i32(PANEL - 1)), i32(3)));
  // image n of X is C·H·W floats long; of Y, O·OH·OW floats (O = Og·groups)
  c.set(imageBytes, i32_shl(i32_mul(i32_mul(P("C"), P("H")), P("W")), i32(2)));
  c.set(outImageBytes, i32_shl(i32_mul(i32_mul(get(Og), P("groups")), get(pixels)), i32(2)));
  c.set(image, i32_add(P("X"), i32_mul(get(n), get(imageBytes))));
  c.set(outImage, i32_add(P("Y"), i32_mul(get(n), get(outImageBytes))));
  /** Byte offset of group g's first row in a matrix with `rows` rows per group of `cols` floats. */
  const groupOffset = (rows: Local, cols: Local) => i32_shl(i32_mul(i32_mul(get(g), get(rows)), get(cols)), i32(2));

  c.while(i32_lt_s(get(n), get(n1)), () => {
    if (direction === "forward") {
      c.if(
        P("packDirect"),
        () => c.call(packPanels!, get(image), P("C"), P("H"), P("W"), P("kh"), P("kw"), P("OH"), P("OW"), get(packed)),
        () => c.call(deps.im2col, i32(0), i32(1), get(image), ...GEOMETRY_ARGS.map((s) => P(s)), get(cols)),
      );
      c.for(g, i32(0), P("groups"), 1, () => {
        // op(B) = this group's columns of cols, transposed: K × pixels, so panels run over pixels
        c.set(colsOfGroup, i32_add(get(cols), i32_shl(i32_mul(get(g), get(K)), i32(2))));
        c.if(i32_eqz(P("packDirect")), () =>
          c.call(deps.packB, get(K), get(pixels), get(colsOfGroup), get(Ktot), i32(1), i32(0), get(packed), i32(0), get(panels)),
        );
        c.call(
          deps.gemmBlock,
          ...[i32(0), get(Og), i32(0), get(panels), get(pixels), get(K)],
          ...[i32_add(P("Wt"), groupOffset(Og, K)), get(K), i32(0)],
          ...[get(colsOfGroup), get(Ktot), i32(0), get(packed)],
          ...[i32_add(get(outImage), groupOffset(Og, pixels)), get(pixels), i32(0), P("mc")],
        );
      });
    } else {
      c.for(g, i32(0), P("groups"), 1, () => {
        // dcols[:, g] (pixels × K) = dy_n[g]ᵀ (stored Og × pixels) · W_g (Og × K, packed)
        c.call(
          deps.gemmBlock,
          ...[i32(0), get(pixels), i32(0), get(panels), get(K), get(Og)],
          ...[i32_add(get(outImage), groupOffset(Og, pixels)), get(pixels), i32(1)],
          // W_g's panels: `panels` panels of Og rows × 8 floats
          ...[i32(0), get(K), i32(0), i32_add(P("Wt"), i32_shl(i32_mul(i32_mul(get(g), get(Og)), get(panels)), i32(5)))],
          ...[i32_add(get(cols), i32_shl(i32_mul(get(g), get(K)), i32(2))), get(Ktot), i32(0), P("mc")],
        );
      });
      c.call(deps.col2im, get(image), ...GEOMETRY_ARGS.map((s) => P(s)), get(cols));
    }
    c.set(image, i32_add(get(image), get(imageBytes)));
    c.set(outImage, i32_add(get(outImage), get(outImageBytes)));
    c.set(n, i32_add(get(n), i32(1)));
  });
  return fn;
}
