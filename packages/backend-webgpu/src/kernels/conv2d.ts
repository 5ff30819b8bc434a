/**
 * conv2d and its two gradients as implicit GEMMs over NCHW tensors (per group g):
 * - forward:          out[g]  (Og x N*OH*OW)   = W[g] (Og x Cg*KH*KW) @ im2col(x)[g]
 * - input gradient:   dx[g]   (Cg x N*H*W)     = W[g]^T (Cg x Og*KH*KW) @ col2im-gather(dy)[g]
 * - weight gradient:  dw[g]   (Og x Cg*KH*KW)  = dy[g] (Og x N*OH*OW) @ im2col(x)[g]^T
 * The im2col matrices are never built: the loaders compute each element's source address (and
 * return 0 for padding), which saves the memory and bandwidth of materialising them. Each kernel
 * loops over the reduction as nested (channel, kernel row, kernel column) or (image, row, column)
 * loops, with the per-column address arithmetic done once per thread (see gemm.ts).
 */
import { type WebGPUBuffer, gpuBuffer } from "../buffer.js";
import type { BackendBuffer, Conv2dParams, Shape4 } from "../contract.js";
import type { KernelContext } from "./context.js";
import { GEMM_PARAMS, colsPerLane, gemm, outerProduct } from "./gemm.js";
import { accType } from "./matmul.js";
import { BindingSet, type Elem, type SpanSource, convert, load, span, wgslType } from "./wgsl.js";

interface Geometry {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  KH: number;
  KW: number;
  OH: number;
  OW: number;
  groups: number;
}

const NAMES = ["N", "C", "H", "W", "O", "KH", "KW", "OH", "OW", "sh", "sw", "ph", "pw", "dh", "dw", "Cg", "Og"] as const;

/** WGSL `let` bindings of the geometry, read from the custom parameters. */
const GEOMETRY_WGSL = NAMES.map((n, i) => `  let ${n} = P(${GEMM_PARAMS + i}u);`).join("\n");

function custom(g: Geometry, p: Conv2dParams): number[] {
  return [
    g.N,
    g.C,
    g.H,
    g.W,
    g.O,
    g.KH,
    g.KW,
    g.OH,
    g.OW,
    p.stride[0],
    p.stride[1],
    p.padding[0],
    p.padding[1],
    p.dilation[0],
    p.dilation[1],
    g.C / g.groups,
    g.O / g.groups,
  ];
}

/** Widest kernel the sliding-window variants unroll. */
const MAX_WINDOW = 8;

/** Geometry of a convolution from the shapes the contract passes. */
function geometry(xShape: Shape4, wShape: Shape4, outHW: readonly [number, number], p: Conv2dParams): Geometry {
  return { N: xShape[0], C: xShape[1], H: xShape[2], W: xShape[3], O: wShape[0], KH: wShape[2], KW: wShape[3], OH: outHW[0], OW: outHW[1], groups: p.groups };
}

function padded(p: Conv2dParams): boolean {
  return p.padding[0] !== 0 || p.padding[1] !== 0;
}

/** Whether the width axis has stride 1 and dilation 1, so neighbouring columns share inputs. */
function unitWidth(g: Geometry, p: Conv2dParams): boolean {
  return p.stride[1] === 1 && p.dilation[1] === 1 && g.KW <= MAX_WINDOW;
}

/**
 * WGSL loading element `idx` (an i32 expression) of binding `arr` as the acc type, or 0 where `ok`
 * is false (the address is then never used: it is replaced by 0).
 */
function guardedLoad(e: Elem, arr: string, idx: string, ok: string | null, acc: "float32" | "int32"): string {
  const T = wgslType(acc);
  if (!ok) return convert(load(e, arr, `u32(${idx})`), e, acc);
  return `select(${T}(0), ${convert(load(e, arr, `u32(select(0, ${idx}, ${ok}))`), e, acc)}, ${ok})`;
}

/** i32 ceil and floor divisions by a positive divisor (WGSL's truncates toward zero). */
const DIV_WGSL = /* wgsl */ `
fn ceil_div(a: i32, d: i32) -> i32 { return select((a + d - 1) / d, a / d, a <= 0); }
fn floor_div(a: i32, d: i32) -> i32 { return select(a / d, (a - d + 1) / d, a < 0); }`;

/**
 * Columns per lane (cn, a multiple of 4 unless the row is narrower) and rows per workgroup (rm) of
 * the row variants, for output rows of `width` pixels, `rows` rows and kernels `kw` wide: about 32
 * accumulators per lane, and the fewest loads per multiply-add (a lane loads cn + kw - 1 inputs
 * and rm * kw weights per kernel row, as vec4s) counting the columns wasted at the end of a row.
 */
function rowVariantShape(width: number, rows: number, kw: number): [number, number] {
  if (width < 4) return [Math.min(8, Math.floor(32 / width)), width];
  let best: [number, number] = [4, 8];
  let bestCost = Number.POSITIVE_INFINITY;
  for (const cn of [4, 8, 12, 16]) {
    const rm = Math.max(1, Math.min(8, Math.floor(32 / cn)));
    const rmUsed = Math.min(rm, rows);
    const loads = Math.ceil((cn + kw + 2) / 4) + rmUsed * Math.ceil((kw + 3) / 4);
    const macs = rmUsed * kw * (width / Math.ceil(width / cn)) * (rows / (Math.ceil(rows / rmUsed) * rmUsed));
    const cost = loads / macs;
    if (cost < bestCost - 1e-9) {
      bestCost = cost;
      best = [rm, cn];
    }
  }
  return best;
}

const PROLOGUE = `${GEOMETRY_WGSL}
  let HW = H * W;
  let OHW = OH * OW;
  let KK = KH * KW;`;

/**
 * Cross-correlation as PyTorch computes it: x [N,C,H,W], w [O,C/groups,KH,KW] -> out [N,O,OH,OW].
 * Rows are output channels (the weight is the uniform operand), columns are output pixels of all
 * images; the reduction runs over (c, kh, kw). With stride and dilation 1 along the width (the
 * common case), each workgroup covers one output row, so the kernel rows that fall outside the
 * input are skipped for all its lanes at once, and a lane takes cn neighbouring pixels of that row
 * and reads the cn + KW - 1 input cells they share once per (c, kh), as vec4 runs.
 */
export function conv2d(
  ctx: KernelContext,
  xB: BackendBuffer,
  xShape: Shape4,
  wB: BackendBuffer,
  wShape: Shape4,
  out: WebGPUBuffer,
  outShape: Shape4,
  p: Conv2dParams,
): void {
  const x = gpuBuffer(xB, "conv2d");
  const w = gpuBuffer(wB, "conv2d");
  const g = geometry(xShape, wShape, [outShape[2], outShape[3]], p);
  const acc = accType(x.dtype);
  const b = new BindingSet();
  const nx = b.use(x);
  const nw = b.use(w);
  const base = {
    label: "conv2d",
    z: g.groups,
    rows: g.O / g.groups,
    K: (g.C / g.groups) * g.KH * g.KW,
    units: g.C / g.groups, // the reduction splits by input channel
    acc,
    bindings: b,
    custom: custom(g, p),
    out,
  } as const;
  const wLoad = (i: number, k: string) => convert(load(w.dtype, nw, `wrow${i} + ${k}`), w.dtype, acc);
  const wRows = (rm: number) => Array.from({ length: rm }, (_, i) => `  let wrow${i} = (g * Og + r${i}) * (Cg * KK);`).join("\n");
  if (unitWidth(g, p)) {
    const KW = g.KW;
    const [rm, cn] = rowVariantShape(g.OW, g.O / g.groups, KW);
    const WB = Math.ceil(g.OW / cn);
    const xs: SpanSource = { scalar: nx, vec4: b.useVec4(x, x.gpu === out.gpu), elem: x.dtype };
    const ws: SpanSource = { scalar: nw, vec4: b.useVec4(w, w.gpu === out.gpu), elem: w.dtype };
    // Rows outside the input are skipped by the kernel-row range; columns need checks with width padding.
    const check = p.padding[1] !== 0 || g.OW % cn !== 0;
    // Every lane's input run starts at a multiple of 4 when rows, blocks and padding keep it there.
    const aligned = !check && g.W % 4 === 0 && cn % 4 === 0;
    gemm(ctx, {
      ...base,
      key: `conv2d-row:${x.dtype}:${w.dtype}:${cn}:${KW}:${check ? "checked" : aligned ? "aligned" : "valid"}`,
      z: g.groups * g.OH,
      blocks: g.N * WB,
      cn,
      rm,
      custom: [...base.custom, WB],
      helpers: DIV_WGSL,
      body: (RM) => {
        const fma: string[] = [];
        for (let i = 0; i < RM; i++) fma.push(span(`a${i}_`, ws, `i32(wrow${i} + wk)`, KW, acc));
        // One update per accumulator and kernel row: on lavapipe every write to a loop variable
        // is a masked store, far dearer than the multiply-adds folded into one expression.
        for (let i = 0; i < RM; i++)
          for (let j = 0; j < cn; j++) fma.push(`acc${i}_${j} += ${Array.from({ length: KW }, (_, kw) => `a${i}_${kw} * v${j + kw}`).join(" + ")};`);
        return `${PROLOGUE}
  let WB = P(${GEMM_PARAMS + NAMES.length}u);
  // One output row per workgroup: the kernel rows that stay inside the input are the same in every lane.
  let g = zi / OH;
  let oh = zi % OH;
  let n = lb / WB;
  let ow0 = (lb % WB) * ${cn}u;
  let ih0 = i32(oh * sh) - i32(ph);
  let khLo = max(0, ceil_div(-ih0, i32(dh)));
  let khHi = min(i32(KH) - 1, floor_div(i32(H) - 1 - ih0, i32(dh)));
  let iw0 = i32(ow0) - i32(pw);
  let xb = i32((n * C + g * Cg) * HW) + iw0;
${wRows(RM)}
  for (var c = uBegin; c < uEnd; c++) {
    for (var khi = khLo; khi <= khHi; khi++) {
      let kh = u32(khi);
      let wk = c * KK + kh * KW;
${span("v", xs, `xb + i32(c * HW) + (ih0 + khi * i32(dh)) * i32(W)`, cn + KW - 1, acc, {
  aligned,
  valid: check ? (t) => `(iw0 + ${t} >= 0 && iw0 + ${t} < i32(W))` : undefined,
})}
${fma.join("\n")}
    }
  }`;
      },
      outIndex: (i, j) => `((n * O + g * Og + r${i}) * OH + oh) * OW + ow0 + ${j}u`,
      colValid: (j) => `ow0 + ${j}u < OW`,
    });
    return;
  }
  const cols = g.N * g.OH * g.OW;
  const cn = colsPerLane(cols);
  const pad = padded(p);
  gemm(ctx, {
    ...base,
    key: `conv2d:${x.dtype}:${w.dtype}:${cn}:${pad ? "pad" : "valid"}`,
    blocks: Math.ceil(cols / cn),
    cn,
    custom: [...base.custom, cols],
    body: (rm) => {
      const setup = Array.from(
        { length: cn },
        (_, j) => `  let c${j} = min(lb * ${cn}u + ${j}u, COLS - 1u);
  let n_${j} = c${j} / OHW;
  let s_${j} = c${j} % OHW;
  let ih0_${j} = i32((s_${j} / OW) * sh) - i32(ph);
  let iw0_${j} = i32((s_${j} % OW) * sw) - i32(pw);
  let xb_${j} = i32((n_${j} * C + g * Cg) * HW);`,
      );
      const rowsAt = Array.from(
        { length: cn },
        (_, j) => `      let ih_${j} = ih0_${j} + i32(kh * dh);${pad ? ` let okh_${j} = ih_${j} >= 0 && ih_${j} < i32(H);` : ""}`,
      );
      const col = (j: number) => {
        const iw = `(iw0_${j} + i32(kw * dw))`;
        const ok = pad ? `(okh_${j} && ${iw} >= 0 && ${iw} < i32(W))` : null;
        return guardedLoad(x.dtype, nx, `xb_${j} + i32(c * HW) + ih_${j} * i32(W) + ${iw}`, ok, acc);
      };
      return `${PROLOGUE}
  let g = zi;
  let COLS = P(${GEMM_PARAMS + NAMES.length}u);
${setup.join("\n")}
${wRows(rm)}
  for (var c = uBegin; c < uEnd; c++) {
    for (var kh = 0u; kh < KH; kh++) {
${rowsAt.join("\n")}
      for (var kw = 0u; kw < KW; kw++) {
        let wk = c * KK + kh * KW + kw;
${outerProduct(rm, cn, (i) => wLoad(i, "wk"), col)}
      }
    }
  }`;
    },
    outIndex: (i, j) => `(n_${j} * O + g * Og + r${i}) * OHW + s_${j}`,
    colValid: (j) => `lb * ${cn}u + ${j}u < COLS`,
  });
}

/**
 * Gradient of conv2d with respect to its input: dy [N,O,OH,OW] -> out [N,C,H,W]. Rows are input
 * channels (the weight, read transposed, is the uniform operand), columns are input pixels; each
 * sums over (o, kh, kw) the dy cell whose window put weight (kh, kw) on it. With stride 1 along the
 * width that is a convolution of the zero-padded dy with the flipped weight, and it runs like the
 * forward pass: one input row per workgroup (only the kernel rows whose window row exists, and for
 * a row stride only those landing on a window start), cn neighbouring pixels per lane reading the
 * dy cells they share once, as vec4 runs. Other width strides take the generic per-pixel path.
 */
export function conv2dBackwardInput(
  ctx: KernelContext,
  dyB: BackendBuffer,
  dyShape: Shape4,
  wB: BackendBuffer,
  wShape: Shape4,
  out: WebGPUBuffer,
  xShape: Shape4,
  p: Conv2dParams,
): void {
  const dy = gpuBuffer(dyB, "conv2dBackwardInput");
  const w = gpuBuffer(wB, "conv2dBackwardInput");
  const g = geometry(xShape, wShape, [dyShape[2], dyShape[3]], p);
  const acc = accType(dy.dtype);
  const b = new BindingSet();
  const ndy = b.use(dy);
  const nw = b.use(w);
  const stridedH = p.stride[0] !== 1;
  // Output row oh reads input row oh*sh - ph + kh*dh; invert that for this input row.
  const rowCheck = (th: string, suffix: string) =>
    stridedH
      ? `      let th${suffix} = ${th};
      let okh${suffix} = th${suffix} >= 0 && u32(th${suffix}) % sh == 0u && u32(th${suffix}) / sh < OH;
      let oh${suffix} = select(0u, u32(th${suffix}) / sh, okh${suffix});`
      : `      let th${suffix} = ${th};
      let okh${suffix} = th${suffix} >= 0 && th${suffix} < i32(OH);
      let oh${suffix} = select(0u, u32(th${suffix}), okh${suffix});`;
  const base = {
    label: "conv2dBackwardInput",
    z: g.groups,
    rows: g.C / g.groups,
    K: (g.O / g.groups) * g.KH * g.KW,
    units: g.O / g.groups, // the reduction splits by output channel
    acc,
    bindings: b,
    out,
  } as const;
  const wLoad = (i: number, k: string) => convert(load(w.dtype, nw, `(wo + r${i}) * KK + ${k}`), w.dtype, acc);
  if (unitWidth(g, p)) {
    const KW = g.KW;
    const [rm, cn] = rowVariantShape(g.W, g.C / g.groups, KW);
    const WB = Math.ceil(g.W / cn);
    const spanLen = cn + KW - 1;
    const dys: SpanSource = { scalar: ndy, vec4: b.useVec4(dy, dy.gpu === out.gpu), elem: dy.dtype };
    const ws: SpanSource = { scalar: nw, vec4: b.useVec4(w, w.gpu === out.gpu), elem: w.dtype };
    const aligned = g.OW % 4 === 0 && cn % 4 === 0 && (p.padding[1] - (KW - 1)) % 4 === 0;
    gemm(ctx, {
      ...base,
      key: `conv2dBackwardInput-row:${dy.dtype}:${w.dtype}:${cn}:${KW}:${stridedH ? "strided" : "s1"}:${aligned ? "aligned" : "any"}`,
      z: g.groups * g.H,
      blocks: g.N * WB,
      cn,
      rm,
      custom: [...custom(g, p), WB],
      helpers: DIV_WGSL,
      body: (RM) => {
        const fma: string[] = [];
        for (let i = 0; i < RM; i++) fma.push(span(`a${i}_`, ws, `i32((wo + r${i}) * KK + wk)`, KW, acc));
        // Column j meets dy column tw0 + j - kw + KW - 1, which is run value j - kw + KW - 1.
        for (let i = 0; i < RM; i++)
          for (let j = 0; j < cn; j++) fma.push(`acc${i}_${j} += ${Array.from({ length: KW }, (_, kw) => `a${i}_${kw} * v${j - kw + KW - 1}`).join(" + ")};`);
        return `${PROLOGUE}
  let WB = P(${GEMM_PARAMS + NAMES.length}u);
  // One input row per workgroup: the kernel rows whose window row exists are the same in every lane.
  let g = zi / H;
  let h = zi % H;
  let n = lb / WB;
  let w0 = (lb % WB) * ${cn}u;
  // Output row oh reads input row oh*sh - ph + kh*dh; invert that for this input row.
  let th0 = i32(h + ph);
  let khLo = max(0, ceil_div(th0 - i32((OH - 1u) * sh), i32(dh)));
  let khHi = min(i32(KH) - 1, th0 / i32(dh));
  // dy columns tw0 ... tw0 + ${spanLen - 1}
  let tw0 = i32(w0 + pw) - ${KW - 1};
  let dyb = i32((n * O + g * Og) * OHW) + tw0;
  for (var o = uBegin; o < uEnd; o++) {
    let wo = (g * Og + o) * Cg;
    for (var khi = khLo; khi <= khHi; khi++) {
      let th = u32(th0 - khi * i32(dh));
      ${stridedH ? "if (th % sh != 0u) { continue; }" : ""}
      let wk = u32(khi) * KW;
${span("v", dys, `dyb + i32(o * OHW + (th / sh) * OW)`, spanLen, acc, { aligned, valid: (t) => `(tw0 + ${t} >= 0 && tw0 + ${t} < i32(OW))` })}
${fma.join("\n")}
    }
  }`;
      },
      outIndex: (i, j) => `((n * C + g * Cg + r${i}) * H + h) * W + w0 + ${j}u`,
      colValid: (j) => `w0 + ${j}u < W`,
    });
    return;
  }
  const cols = g.N * g.H * g.W;
  const cn = colsPerLane(cols);
  gemm(ctx, {
    ...base,
    key: `conv2dBackwardInput:${dy.dtype}:${w.dtype}:${cn}`,
    blocks: Math.ceil(cols / cn),
    cn,
    custom: [...custom(g, p), cols],
    body: (rm) => {
      const setup = Array.from(
        { length: cn },
        (_, j) => `  let c${j} = min(lb * ${cn}u + ${j}u, COLS - 1u);
  let n_${j} = c${j} / HW;
  let s_${j} = c${j} % HW;
  let th0_${j} = i32(s_${j} / W + ph);
  let tw0_${j} = i32(s_${j} % W + pw);
  let dyb_${j} = (n_${j} * O + g * Og) * OHW;`,
      );
      // each column's dy column and whether it exists, named once: SwiftShader took minutes to
      // compile the kernel with these expressions repeated inside every load
      const colCheck = Array.from(
        { length: cn },
        (_, j) => `        let tw_${j} = tw0_${j} - i32(kw * dw);
        let ok_${j} = okh_${j} && tw_${j} >= 0 && u32(tw_${j}) % sw == 0u && u32(tw_${j}) / sw < OW;`,
      );
      const col = (j: number) => guardedLoad(dy.dtype, ndy, `i32(dyb_${j} + o * OHW + oh_${j} * OW + u32(tw_${j}) / sw)`, `ok_${j}`, acc);
      return `${PROLOGUE}
  let g = zi;
  let COLS = P(${GEMM_PARAMS + NAMES.length}u);
${setup.join("\n")}
  for (var o = uBegin; o < uEnd; o++) {
    let wo = (g * Og + o) * Cg;
    for (var kh = 0u; kh < KH; kh++) {
${Array.from({ length: cn }, (_, j) => rowCheck(`th0_${j} - i32(kh * dh)`, `_${j}`)).join("\n")}
      for (var kw = 0u; kw < KW; kw++) {
        let wk = kh * KW + kw;
${colCheck.join("\n")}
${outerProduct(rm, cn, (i) => wLoad(i, "wk"), col)}
      }
    }
  }`;
    },
    outIndex: (i, j) => `(n_${j} * C + g * Cg + r${i}) * HW + s_${j}`,
    colValid: (j) => `lb * ${cn}u + ${j}u < COLS`,
  });
}

/**
 * Gradient of conv2d with respect to its weight: x [N,C,H,W], dy [N,O,OH,OW] -> out [O,C/groups,KH,KW].
 * Rows are output channels (dy is the uniform operand); the reduction runs over images and output
 * pixels, split across workgroups by images when the output is small. With stride and dilation 1
 * along the width, a lane owns a whole kernel row (c, kh, all kw) and walks along output rows four
 * columns at a time: one vec4 run of dy per output channel and one run of 4 + KW - 1 input cells
 * feed 4 * KW multiply-adds per channel.
 */
export function conv2dBackwardWeight(
  ctx: KernelContext,
  xB: BackendBuffer,
  xShape: Shape4,
  dyB: BackendBuffer,
  dyShape: Shape4,
  out: WebGPUBuffer,
  wShape: Shape4,
  p: Conv2dParams,
): void {
  const x = gpuBuffer(xB, "conv2dBackwardWeight");
  const dy = gpuBuffer(dyB, "conv2dBackwardWeight");
  const g = geometry(xShape, wShape, [dyShape[2], dyShape[3]], p);
  const acc = accType(x.dtype);
  const b = new BindingSet();
  const nx = b.use(x);
  const ndy = b.use(dy);
  const pad = padded(p);
  const base = {
    label: "conv2dBackwardWeight",
    z: g.groups,
    rows: g.O / g.groups,
    K: g.N * g.OH * g.OW,
    units: g.N,
    acc,
    bindings: b,
    custom: custom(g, p),
    out,
  } as const;
  const dyLoad = (i: number) => convert(load(dy.dtype, ndy, `dyi + r${i} * OHW`), dy.dtype, acc);
  if (unitWidth(g, p)) {
    const KW = g.KW;
    const xs: SpanSource = { scalar: nx, vec4: b.useVec4(x, x.gpu === out.gpu), elem: x.dtype };
    const dys: SpanSource = { scalar: ndy, vec4: b.useVec4(dy, dy.gpu === out.gpu), elem: dy.dtype };
    // dy runs of 4 output columns start at multiples of 4 when output rows are.
    const dyAligned = g.OW % 4 === 0;
    const xAligned = g.W % 4 === 0 && p.padding[1] % 4 === 0;
    gemm(ctx, {
      ...base,
      key: `conv2dBackwardWeight-row:${x.dtype}:${dy.dtype}:${KW}:${pad ? "pad" : "valid"}:${dyAligned ? "a" : "u"}${xAligned ? "a" : "u"}`,
      blocks: (g.C / g.groups) * g.KH,
      cn: KW,
      body: (RM) => {
        // Four output columns ow0 .. ow0 + 3 at a time: dy runs of 4 per row (uniform), one input
        // run of 4 + KW - 1 per lane. In the last, partial block only the existing columns add
        // (a uniform branch per column), so cells past the row never meet a real weight gradient.
        const xValid = pad ? (t: number) => `(okh && ox + ${t} >= 0 && ox + ${t} < i32(W))` : undefined;
        const loads = [span("v", xs, "xr + i32(ow0)", 4 + KW - 1, acc, { aligned: xAligned, valid: xValid })];
        for (let i = 0; i < RM; i++) loads.push(span(`d${i}_`, dys, `i32(dyr + r${i} * OHW + ow0)`, 4, acc, { aligned: dyAligned }));
        const fmaFor = (t: number) => {
          const f: string[] = [];
          for (let i = 0; i < RM; i++) for (let kw = 0; kw < KW; kw++) f.push(`acc${i}_${kw} += d${i}_${t} * v${t + kw};`);
          return f.join("\n");
        };
        // One update per accumulator for the four columns (see the forward pass).
        const full: string[] = [];
        for (let i = 0; i < RM; i++)
          for (let kw = 0; kw < KW; kw++) full.push(`acc${i}_${kw} += ${[0, 1, 2, 3].map((t) => `d${i}_${t} * v${t + kw}`).join(" + ")};`);
        const tail = [0, 1, 2, 3].map((t) => `if (ow0 + ${t}u < OW) {\n${fmaFor(t)}\n}`).join("\n");
        return `${PROLOGUE}
  let g = zi;
  let c = lb / KH;
  let kh = lb % KH;
  let xo = i32((g * Cg + c) * HW) - i32(pw);
  let dhh = i32(kh * dh) - i32(ph);
  let OW4 = OW & ~3u;
  for (var n = uBegin; n < uEnd; n++) {
    let dyn = (n * O + g * Og) * OHW;
    let xn = i32(n * C * HW) + xo;
    for (var oh = 0u; oh < OH; oh++) {
      let ih = i32(oh * sh) + dhh;
      ${pad ? "let okh = ih >= 0 && ih < i32(H);" : ""}
      let xr = xn + ih * i32(W);
      let dyr = dyn + oh * OW;
      var ow0 = 0u;
      for (; ow0 < OW4; ow0 += 4u) {
        ${pad ? "let ox = i32(ow0) - i32(pw);" : ""}
${loads.join("\n")}
${full.join("\n")}
      }
      if (ow0 < OW) {
        ${pad ? "let ox = i32(ow0) - i32(pw);" : ""}
${loads.join("\n")}
${tail}
      }
    }
  }`;
      },
      outIndex: (i, j) => `(g * Og + r${i}) * (Cg * KK) + lb * KW + ${j}u`,
      colValid: () => "true",
    });
    return;
  }
  const cols = (g.C / g.groups) * g.KH * g.KW;
  const cn = colsPerLane(cols);
  gemm(ctx, {
    ...base,
    key: `conv2dBackwardWeight:${x.dtype}:${dy.dtype}:${cn}:${pad ? "pad" : "valid"}`,
    blocks: Math.ceil(cols / cn),
    cn,
    custom: [...base.custom, cols],
    body: (rm) => {
      const setup = Array.from(
        { length: cn },
        (_, j) => `  let c${j} = min(lb * ${cn}u + ${j}u, COLS - 1u);
  let r_${j} = c${j} % KK;
  let xo_${j} = i32((g * Cg + c${j} / KK) * HW);
  let dh_${j} = i32((r_${j} / KW) * dh) - i32(ph);
  let dw_${j} = i32((r_${j} % KW) * dw) - i32(pw);`,
      );
      const col = (j: number) => {
        const iw = `(i32(ow * sw) + dw_${j})`;
        const ok = pad ? `(okh_${j} && ${iw} >= 0 && ${iw} < i32(W))` : null;
        return guardedLoad(x.dtype, nx, `xn + xo_${j} + ih_${j} * i32(W) + ${iw}`, ok, acc);
      };
      return `${PROLOGUE}
  let g = zi;
  let COLS = P(${GEMM_PARAMS + NAMES.length}u);
${setup.join("\n")}
  for (var n = uBegin; n < uEnd; n++) {
    let dyn = (n * O + g * Og) * OHW;
    let xn = i32(n * C * HW);
    for (var oh = 0u; oh < OH; oh++) {
${Array.from({ length: cn }, (_, j) => `      let ih_${j} = i32(oh * sh) + dh_${j};${pad ? ` let okh_${j} = ih_${j} >= 0 && ih_${j} < i32(H);` : ""}`).join("\n")}
      for (var ow = 0u; ow < OW; ow++) {
        let dyi = dyn + oh * OW + ow;
${outerProduct(rm, cn, dyLoad, col)}
      }
    }
  }`;
    },
    outIndex: (i, j) => `(g * Og + r${i}) * (Cg * KK) + c${j}`,
    colValid: (j) => `lb * ${cn}u + ${j}u < COLS`,
  });
}
