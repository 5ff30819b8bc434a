/** `matmul`: batched, strided operands (batch stride may be 0), through the tiled GEMM. */
import { type WebGPUBuffer, gpuBuffer } from "../buffer.js";
import type { DType, StridedView } from "../contract.js";
import type { KernelContext } from "./context.js";
import { GEMM_PARAMS, gemm } from "./gemm.js";
import { BindingSet, convert, load, wgslType } from "./wgsl.js";

/** The accumulation type of a GEMM over operands of `dtype`. */
export function accType(dtype: DType): "float32" | "int32" {
  return dtype === "float32" ? "float32" : "int32";
}

/** out[b] = a[b] @ b[b]; a is [B,M,K], b is [B,K,N], out contiguous [B,M,N]. */
export function matmul(ctx: KernelContext, a: StridedView, b: StridedView, out: WebGPUBuffer): void {
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const ab = gpuBuffer(a.buffer, "matmul");
  const bb = gpuBuffer(b.buffer, "matmul");
  const acc = accType(a.buffer.dtype === "float32" || b.buffer.dtype === "float32" ? "float32" : a.buffer.dtype);
  const bindings = new BindingSet();
  const na = bindings.use(ab);
  const nb = bindings.use(bb);
  const T = wgslType(acc);
  const p = (i: number) => `Pi(${GEMM_PARAMS + i}u)`;
  const helpers = () => `
fn loadA(b: u32, m: u32, k: u32) -> ${T} {
  let i = u32(${p(0)} + i32(b) * ${p(1)} + i32(m) * ${p(2)} + i32(k) * ${p(3)});
  return ${convert(load(ab.dtype, na, "i"), ab.dtype, acc)};
}
fn loadB(b: u32, k: u32, n: u32) -> ${T} {
  let i = u32(${p(4)} + i32(b) * ${p(5)} + i32(k) * ${p(6)} + i32(n) * ${p(7)});
  return ${convert(load(bb.dtype, nb, "i"), bb.dtype, acc)};
}`;
  const custom = [a.offset, ...a.strides, b.offset, ...b.strides].map((v) => v >>> 0);
  gemm(ctx, {
    key: `matmul:${ab.dtype}:${bb.dtype}`,
    label: "matmul",
    batch: B,
    M,
    N,
    K,
    acc,
    bindings,
    custom,
    helpers,
    flatOut: out,
  });
}
