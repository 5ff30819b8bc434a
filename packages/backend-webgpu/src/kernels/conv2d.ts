/**
 * conv2d and its two gradients as implicit GEMMs over NCHW tensors (per group g):
 * - forward:          out[g]  (Og x N*OH*OW)   = W[g] (Og x Cg*KH*KW) @ im2col(x)[g]
 * - input gradient:   dx[g]   (Cg x N*H*W)     = W[g]^T (Cg x Og*KH*KW) @ col2im-gather(dy)[g]
 * - weight gradient:  dw[g]   (Og x Cg*KH*KW)  = dy[g] (Og x N*OH*OW) @ im2col(x)[g]^T
 * The im2col matrices are never built: the loaders compute each element's source address (and
 * return 0 for padding), which saves the memory and bandwidth of materialising them.
 */
import { type WebGPUBuffer, gpuBuffer } from "../buffer.js";
import type { BackendBuffer, Conv2dParams, Shape4 } from "../contract.js";
import type { KernelContext } from "./context.js";
import { GEMM_PARAMS, gemm } from "./gemm.js";
import { accType } from "./matmul.js";
import { BindingSet, convert, load, store, wgslType } from "./wgsl.js";

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

/** Cross-correlation as PyTorch computes it: x [N,C,H,W], w [O,C/groups,KH,KW] -> out [N,O,OH,OW]. */
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
  const g: Geometry = {
    N: xShape[0],
    C: xShape[1],
    H: xShape[2],
    W: xShape[3],
    O: wShape[0],
    KH: wShape[2],
    KW: wShape[3],
    OH: outShape[2],
    OW: outShape[3],
    groups: p.groups,
  };
  const acc = accType(x.dtype);
  const T = wgslType(acc);
  const b = new BindingSet();
  const nx = b.use(x);
  const nw = b.use(w);
  const no = b.use(out, true);
  const helpers = () => `
fn loadA(g: u32, o: u32, k: u32) -> ${T} {
${GEOMETRY_WGSL}
  let i = (g * Og + o) * (Cg * KH * KW) + k;
  return ${convert(load(w.dtype, nw, "i"), w.dtype, acc)};
}
fn loadB(g: u32, k: u32, col: u32) -> ${T} {
${GEOMETRY_WGSL}
  let c = k / (KH * KW);
  let r = k % (KH * KW);
  let n = col / (OH * OW);
  let s = col % (OH * OW);
  let ih = i32((s / OW) * sh + (r / KW) * dh) - i32(ph);
  let iw = i32((s % OW) * sw + (r % KW) * dw) - i32(pw);
  if (ih < 0 || iw < 0 || ih >= i32(H) || iw >= i32(W)) { return ${T}(0); }
  let i = ((n * C + g * Cg + c) * H + u32(ih)) * W + u32(iw);
  return ${convert(load(x.dtype, nx, "i"), x.dtype, acc)};
}
fn storeC(g: u32, o: u32, col: u32, v: ${T}) {
${GEOMETRY_WGSL}
  let n = col / (OH * OW);
  let i = (n * O + g * Og + o) * (OH * OW) + col % (OH * OW);
  ${store(out.dtype, no, "i", convert("v", acc, out.dtype))}
}`;
  gemm(ctx, {
    key: `conv2d:${x.dtype}:${w.dtype}:${out.dtype}`,
    label: "conv2d",
    batch: g.groups,
    M: g.O / g.groups,
    N: g.N * g.OH * g.OW,
    K: (g.C / g.groups) * g.KH * g.KW,
    acc,
    bindings: b,
    custom: custom(g, p),
    helpers,
  });
}

/** Gradient of conv2d with respect to its input: dy [N,O,OH,OW] -> out [N,C,H,W]. */
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
  const g: Geometry = {
    N: xShape[0],
    C: xShape[1],
    H: xShape[2],
    W: xShape[3],
    O: wShape[0],
    KH: wShape[2],
    KW: wShape[3],
    OH: dyShape[2],
    OW: dyShape[3],
    groups: p.groups,
  };
  const acc = accType(dy.dtype);
  const T = wgslType(acc);
  const b = new BindingSet();
  const ndy = b.use(dy);
  const nw = b.use(w);
  const no = b.use(out, true);
  const helpers = () => `
fn loadA(g: u32, c: u32, k: u32) -> ${T} {
${GEOMETRY_WGSL}
  let o = k / (KH * KW);
  let r = k % (KH * KW);
  let i = ((g * Og + o) * Cg + c) * (KH * KW) + r;
  return ${convert(load(w.dtype, nw, "i"), w.dtype, acc)};
}
fn loadB(g: u32, k: u32, col: u32) -> ${T} {
${GEOMETRY_WGSL}
  let o = k / (KH * KW);
  let r = k % (KH * KW);
  let n = col / (H * W);
  let s = col % (H * W);
  // Output row oh reads input row oh*sh - ph + kh*dh; invert that for this input row.
  let th = i32(s / W) + i32(ph) - i32((r / KW) * dh);
  let tw = i32(s % W) + i32(pw) - i32((r % KW) * dw);
  if (th < 0 || tw < 0) { return ${T}(0); }
  if (u32(th) % sh != 0u || u32(tw) % sw != 0u) { return ${T}(0); }
  let oh = u32(th) / sh;
  let ow = u32(tw) / sw;
  if (oh >= OH || ow >= OW) { return ${T}(0); }
  let i = ((n * O + g * Og + o) * OH + oh) * OW + ow;
  return ${convert(load(dy.dtype, ndy, "i"), dy.dtype, acc)};
}
fn storeC(g: u32, c: u32, col: u32, v: ${T}) {
${GEOMETRY_WGSL}
  let n = col / (H * W);
  let i = (n * C + g * Cg + c) * (H * W) + col % (H * W);
  ${store(out.dtype, no, "i", convert("v", acc, out.dtype))}
}`;
  gemm(ctx, {
    key: `conv2dBackwardInput:${dy.dtype}:${w.dtype}:${out.dtype}`,
    label: "conv2dBackwardInput",
    batch: g.groups,
    M: g.C / g.groups,
    N: g.N * g.H * g.W,
    K: (g.O / g.groups) * g.KH * g.KW,
    acc,
    bindings: b,
    custom: custom(g, p),
    helpers,
  });
}

/** Gradient of conv2d with respect to its weight: x [N,C,H,W], dy [N,O,OH,OW] -> out [O,C/groups,KH,KW]. */
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
  const g: Geometry = {
    N: xShape[0],
    C: xShape[1],
    H: xShape[2],
    W: xShape[3],
    O: wShape[0],
    KH: wShape[2],
    KW: wShape[3],
    OH: dyShape[2],
    OW: dyShape[3],
    groups: p.groups,
  };
  const acc = accType(x.dtype);
  const T = wgslType(acc);
  const b = new BindingSet();
  const nx = b.use(x);
  const ndy = b.use(dy);
  const helpers = () => `
fn loadA(g: u32, o: u32, k: u32) -> ${T} {
${GEOMETRY_WGSL}
  let n = k / (OH * OW);
  let i = (n * O + g * Og + o) * (OH * OW) + k % (OH * OW);
  return ${convert(load(dy.dtype, ndy, "i"), dy.dtype, acc)};
}
fn loadB(g: u32, k: u32, col: u32) -> ${T} {
${GEOMETRY_WGSL}
  let n = k / (OH * OW);
  let s = k % (OH * OW);
  let c = col / (KH * KW);
  let r = col % (KH * KW);
  let ih = i32((s / OW) * sh + (r / KW) * dh) - i32(ph);
  let iw = i32((s % OW) * sw + (r % KW) * dw) - i32(pw);
  if (ih < 0 || iw < 0 || ih >= i32(H) || iw >= i32(W)) { return ${T}(0); }
  let i = ((n * C + g * Cg + c) * H + u32(ih)) * W + u32(iw);
  return ${convert(load(x.dtype, nx, "i"), x.dtype, acc)};
}`;
  gemm(ctx, {
    key: `conv2dBackwardWeight:${x.dtype}:${dy.dtype}`,
    label: "conv2dBackwardWeight",
    batch: g.groups,
    M: g.O / g.groups,
    N: (g.C / g.groups) * g.KH * g.KW,
    K: g.N * g.OH * g.OW,
    acc,
    bindings: b,
    custom: custom(g, p),
    helpers,
    flatOut: out,
  });
}
