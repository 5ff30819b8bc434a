/**
 * 2-D pooling over NCHW tensors. Windows start at `-padding + i*stride`; cells outside the input
 * (padding, or past the end in ceil mode) never take part: they never win a max and are not counted
 * by the average. The backward passes are gathers (one thread per input cell summing the windows
 * that cover it) rather than scatters, because WebGPU has no float atomics.
 */
import { type WebGPUBuffer, gpuBuffer } from "../buffer.js";
import type { BackendBuffer, DType, Pool2dParams, Shape4 } from "../contract.js";
import { type KernelContext, launch } from "./context.js";
import { fill } from "./copy.js";
import { BindingSet, COMMON_WGSL, ParamBuilder, convert, gridStride, load, paramsDecl, store, wgslType, zero } from "./wgsl.js";

/** Parameter layout shared by every pooling kernel (indices 1..12 after the element count). */
const GEOMETRY_WGSL = ["H", "W", "OH", "OW", "KH", "KW", "sh", "sw", "ph", "pw"].map((n, i) => `  let ${n} = P(${i + 1}u);`).join("\n");

function pooling(count: number, xShape: Shape4, outHW: readonly [number, number], p: Pool2dParams): ParamBuilder {
  const params = new ParamBuilder();
  for (const w of [count, xShape[2], xShape[3], outHW[0], outHW[1], p.kernel[0], p.kernel[1], p.stride[0], p.stride[1], p.padding[0], p.padding[1]]) {
    params.u(w);
  }
  return params;
}

/** `better(v, best)`: v replaces the current maximum (strictly greater; the first NaN wins). */
function betterWGSL(dtype: DType): string {
  const ty = wgslType(dtype);
  return dtype === "float32"
    ? `fn better(v: f32, best: f32) -> bool { return !isnan_f(best) && (isnan_f(v) || v > best); }`
    : `fn better(v: ${ty}, best: ${ty}) -> bool { return v > best; }`;
}

/**
 * The max over each window, written as the value (`mode` value) or as the winning cell's index
 * within its plane (`mode` index, for the backward pass; 0xffffffff when the window is empty).
 */
function maxWindows(
  ctx: KernelContext,
  x: WebGPUBuffer,
  xShape: Shape4,
  out: WebGPUBuffer,
  outHW: readonly [number, number],
  p: Pool2dParams,
  mode: "value" | "index",
): void {
  const total = xShape[0] * xShape[1] * outHW[0] * outHW[1];
  if (total === 0) return;
  const params = pooling(total, xShape, outHW, p);
  const b = new BindingSet();
  const nx = b.use(x);
  const no = b.use(out, true);
  const ty = wgslType(x.dtype);
  const words = params.length;
  const result = mode === "value" ? store(out.dtype, no, "i", convert("best", x.dtype, out.dtype)) : `${no}[i] = select(0xffffffffu, bestAt, found);`;
  launch(
    ctx,
    `maxPool2d:${mode}:${x.dtype}:${out.dtype}`,
    "maxPool2d",
    () => `${paramsDecl(words)}
${b.decls()}
${COMMON_WGSL}
${betterWGSL(x.dtype)}
${gridStride.entry("P(0u)")}
${GEOMETRY_WGSL}
  let ow = i % OW;
  let oh = (i / OW) % OH;
  let plane = i / (OW * OH);
  let h0 = i32(oh * sh) - i32(ph);
  let w0 = i32(ow * sw) - i32(pw);
  var best: ${ty} = ${ty}(0);
  var bestAt = 0u;
  var found = false;
  for (var kh = 0u; kh < KH; kh++) {
    let ih = h0 + i32(kh);
    if (ih < 0 || ih >= i32(H)) { continue; }
    for (var kw = 0u; kw < KW; kw++) {
      let iw = w0 + i32(kw);
      if (iw < 0 || iw >= i32(W)) { continue; }
      let at = u32(ih) * W + u32(iw);
      let v = ${load(x.dtype, nx, "plane * H * W + at")};
      if (!found || better(v, best)) { best = v; bestAt = at; found = true; }
    }
  }
  ${result}
${gridStride.exit}
`,
    params,
    b,
    gridStride.groups(total, ctx.maxWorkgroupsPerDim),
  );
}

/** Max over each window (padding never wins). x: [N,C,H,W] -> out [N,C,OH,OW]. */
export function maxPool2d(ctx: KernelContext, xB: BackendBuffer, xShape: Shape4, out: WebGPUBuffer, outShape: Shape4, p: Pool2dParams): void {
  maxWindows(ctx, gpuBuffer(xB, "maxPool2d"), xShape, out, [outShape[2], outShape[3]], p, "value");
}

/**
 * WGSL computing, for input cell (ih, iw), the range of window rows/cols covering it:
 * window oh covers rows [oh*sh - ph, oh*sh - ph + KH).
 */
const COVERING_WGSL = /* wgsl */ `
  let iw = i % W;
  let ih = (i / W) % H;
  let plane = i / (W * H);
  let th = i32(ih + ph);
  let tw = i32(iw + pw);
  let ohLo = select(0, (th - i32(KH) + i32(sh)) / i32(sh), th - i32(KH) + 1 > 0);
  let owLo = select(0, (tw - i32(KW) + i32(sw)) / i32(sw), tw - i32(KW) + 1 > 0);
  let ohHi = min(i32(OH) - 1, th / i32(sh));
  let owHi = min(i32(OW) - 1, tw / i32(sw));`;

/**
 * maxPool2dBackward when windows do not overlap (stride >= kernel, the usual 2x2 stride 2): one
 * pass, one thread per window, which finds the window's first maximum and writes dy there and 0 to
 * the window's other cells. Cells no window covers are zeroed first (only when there are any).
 */
function routeDisjoint(ctx: KernelContext, x: WebGPUBuffer, xShape: Shape4, dy: WebGPUBuffer, dyShape: Shape4, out: WebGPUBuffer, p: Pool2dParams): void {
  const windows = dyShape[0] * dyShape[1] * dyShape[2] * dyShape[3];
  const tiled =
    p.stride[0] === p.kernel[0] &&
    p.stride[1] === p.kernel[1] &&
    p.padding[0] === 0 &&
    p.padding[1] === 0 &&
    dyShape[2] * p.kernel[0] === xShape[2] &&
    dyShape[3] * p.kernel[1] === xShape[3];
  if (!tiled) fill(ctx, out, 0);
  if (windows === 0) return;
  const params = pooling(windows, xShape, [dyShape[2], dyShape[3]], p);
  const b = new BindingSet();
  const nx = b.use(x);
  const ndy = b.use(dy);
  const no = b.use(out, true);
  const ty = wgslType(x.dtype);
  const words = params.length;
  launch(
    ctx,
    `maxPool2dBackward-disjoint:${x.dtype}:${dy.dtype}:${out.dtype}`,
    "maxPool2dBackward",
    () => `${paramsDecl(words)}
${b.decls()}
${COMMON_WGSL}
${betterWGSL(x.dtype)}
${gridStride.entry("P(0u)")}
${GEOMETRY_WGSL}
  let ow = i % OW;
  let oh = (i / OW) % OH;
  let plane = i / (OW * OH);
  let h0 = i32(oh * sh) - i32(ph);
  let w0 = i32(ow * sw) - i32(pw);
  let hs = u32(max(h0, 0));
  let he = u32(min(h0 + i32(KH), i32(H)));
  let ws = u32(max(w0, 0));
  let we = u32(min(w0 + i32(KW), i32(W)));
  var best: ${ty} = ${ty}(0);
  var bestAt = 0xffffffffu;
  for (var ih = hs; ih < he; ih++) {
    for (var iw = ws; iw < we; iw++) {
      let at = (plane * H + ih) * W + iw;
      let v = ${load(x.dtype, nx, "at")};
      if (bestAt == 0xffffffffu || better(v, best)) { best = v; bestAt = at; }
    }
  }
  let d = ${convert(load(dy.dtype, ndy, "i"), dy.dtype, out.dtype)};
  for (var ih = hs; ih < he; ih++) {
    for (var iw = ws; iw < we; iw++) {
      let at = (plane * H + ih) * W + iw;
      ${store(out.dtype, no, "at", `select(${zero(out.dtype)}, d, at == bestAt)`)}
    }
  }
${gridStride.exit}
`,
    params,
    b,
    gridStride.groups(windows, ctx.maxWorkgroupsPerDim),
  );
}

/** Routes dy to the first maximum of each window; overlapping windows add. */
export function maxPool2dBackward(
  ctx: KernelContext,
  xB: BackendBuffer,
  xShape: Shape4,
  dyB: BackendBuffer,
  dyShape: Shape4,
  out: WebGPUBuffer,
  p: Pool2dParams,
): void {
  const x = gpuBuffer(xB, "maxPool2dBackward");
  const dy = gpuBuffer(dyB, "maxPool2dBackward");
  const total = xShape[0] * xShape[1] * xShape[2] * xShape[3];
  if (total === 0) return;
  const outHW = [dyShape[2], dyShape[3]] as const;
  if (p.stride[0] >= p.kernel[0] && p.stride[1] >= p.kernel[1]) {
    routeDisjoint(ctx, x, xShape, dy, dyShape, out, p);
    return;
  }
  // Pass 1: the winning cell of every window; pass 2: each input cell sums the dy of windows it won.
  const winners = ctx.temp(dyShape[0] * dyShape[1] * dyShape[2] * dyShape[3], "int32");
  maxWindows(ctx, x, xShape, winners, outHW, p, "index");
  const params = pooling(total, xShape, outHW, p);
  const b = new BindingSet();
  const nw = b.use(winners);
  const ndy = b.use(dy);
  const no = b.use(out, true);
  const words = params.length;
  const acc = dy.dtype === "float32" ? "float32" : "int32";
  const ty = wgslType(acc);
  launch(
    ctx,
    `maxPool2dBackward:${dy.dtype}:${out.dtype}`,
    "maxPool2dBackward",
    () => `${paramsDecl(words)}
${b.decls()}
${COMMON_WGSL}
${gridStride.entry("P(0u)")}
${GEOMETRY_WGSL}
${COVERING_WGSL}
  let me = ih * W + iw;
  var acc: ${ty} = ${ty}(0);
  for (var oh = ohLo; oh <= ohHi; oh++) {
    for (var ow = owLo; ow <= owHi; ow++) {
      let o = (plane * OH + u32(oh)) * OW + u32(ow);
      if (${nw}[o] == me) { acc += ${convert(load(dy.dtype, ndy, "o"), dy.dtype, acc)}; }
    }
  }
  ${store(out.dtype, no, "i", convert("acc", acc, out.dtype))}
${gridStride.exit}
`,
    params,
    b,
    gridStride.groups(total, ctx.maxWorkgroupsPerDim),
  );
  ctx.releaseTemp(winners);
}

/** Number of real input cells window (oh, ow) covers, as WGSL (needs GEOMETRY_WGSL in scope). */
const CELLS_WGSL = /* wgsl */ `
fn cells(H: u32, W: u32, KH: u32, KW: u32, h0: i32, w0: i32) -> f32 {
  let hs = max(h0, 0);
  let he = min(h0 + i32(KH), i32(H));
  let ws = max(w0, 0);
  let we = min(w0 + i32(KW), i32(W));
  return f32(max(he - hs, 0) * max(we - ws, 0));
}`;

/** Mean over the input cells each window covers. */
export function avgPool2d(ctx: KernelContext, xB: BackendBuffer, xShape: Shape4, out: WebGPUBuffer, outShape: Shape4, p: Pool2dParams): void {
  const x = gpuBuffer(xB, "avgPool2d");
  const total = outShape[0] * outShape[1] * outShape[2] * outShape[3];
  if (total === 0) return;
  const params = pooling(total, xShape, [outShape[2], outShape[3]], p);
  const b = new BindingSet();
  const nx = b.use(x);
  const no = b.use(out, true);
  const words = params.length;
  launch(
    ctx,
    `avgPool2d:${x.dtype}:${out.dtype}`,
    "avgPool2d",
    () => `${paramsDecl(words)}
${b.decls()}
${COMMON_WGSL}
${CELLS_WGSL}
${gridStride.entry("P(0u)")}
${GEOMETRY_WGSL}
  let ow = i % OW;
  let oh = (i / OW) % OH;
  let plane = i / (OW * OH);
  let h0 = i32(oh * sh) - i32(ph);
  let w0 = i32(ow * sw) - i32(pw);
  var sum = 0.0;
  for (var ih = max(h0, 0); ih < min(h0 + i32(KH), i32(H)); ih++) {
    for (var iw = max(w0, 0); iw < min(w0 + i32(KW), i32(W)); iw++) {
      sum += ${convert(load(x.dtype, nx, "(plane * H + u32(ih)) * W + u32(iw)"), x.dtype, "float32")};
    }
  }
  let n = cells(H, W, KH, KW, h0, w0);
  let r = select(0.0, sum / n, n > 0.0);
  ${store(out.dtype, no, "i", convert("r", "float32", out.dtype))}
${gridStride.exit}
`,
    params,
    b,
    gridStride.groups(total, ctx.maxWorkgroupsPerDim),
  );
}

/** Gradient of avgPool2d: each input cell gathers dy / cells of every window covering it. */
export function avgPool2dBackward(ctx: KernelContext, dyB: BackendBuffer, dyShape: Shape4, out: WebGPUBuffer, xShape: Shape4, p: Pool2dParams): void {
  const dy = gpuBuffer(dyB, "avgPool2dBackward");
  const total = xShape[0] * xShape[1] * xShape[2] * xShape[3];
  if (total === 0) return;
  const params = pooling(total, xShape, [dyShape[2], dyShape[3]], p);
  const b = new BindingSet();
  const ndy = b.use(dy);
  const no = b.use(out, true);
  const words = params.length;
  launch(
    ctx,
    `avgPool2dBackward:${dy.dtype}:${out.dtype}`,
    "avgPool2dBackward",
    () => `${paramsDecl(words)}
${b.decls()}
${COMMON_WGSL}
${CELLS_WGSL}
${gridStride.entry("P(0u)")}
${GEOMETRY_WGSL}
${COVERING_WGSL}
  var acc = 0.0;
  for (var oh = ohLo; oh <= ohHi; oh++) {
    for (var ow = owLo; ow <= owHi; ow++) {
      let n = cells(H, W, KH, KW, oh * i32(sh) - i32(ph), ow * i32(sw) - i32(pw));
      let o = (plane * OH + u32(oh)) * OW + u32(ow);
      if (n > 0.0) { acc += ${convert(load(dy.dtype, ndy, "o"), dy.dtype, "float32")} / n; }
    }
  }
  ${store(out.dtype, no, "i", convert("acc", "float32", out.dtype))}
${gridStride.exit}
`,
    params,
    b,
    gridStride.groups(total, ctx.maxWorkgroupsPerDim),
  );
}
