/** `copy`, `fill` and the view helpers the primitives share. */
import { type WebGPUBuffer, gpuBuffer } from "../buffer.js";
import type { DType, StridedView } from "../contract.js";
import { type EwOperand, elementwise } from "./elementwise.js";
import type { KernelContext } from "./context.js";
import { contiguousStrides } from "./layout.js";
import { type Elem, convert } from "./wgsl.js";

/**
 * An elementwise operand for a contract view. A broadcast scalar whose value is still on the host
 * (`hostWord`) becomes a kernel parameter instead of a binding.
 */
export function viewOperand(v: StridedView, elem: Elem, op: string): EwOperand {
  const buffer = gpuBuffer(v.buffer, op);
  if (buffer.hostWord !== undefined && isBroadcastScalar(v)) return { buffer, strides: v.strides, offset: v.offset, elem, param: buffer.hostWord };
  return { buffer, strides: v.strides, offset: v.offset, elem };
}

/** True when every element of the view is element 0 of a one-element buffer. */
export function isBroadcastScalar(v: StridedView): boolean {
  return v.buffer.size === 1 && v.offset === 0 && v.strides.every((s) => s === 0);
}

/** An elementwise operand for a whole contiguous buffer of `shape`. */
export function denseOperand(b: WebGPUBuffer, shape: readonly number[], elem: Elem): EwOperand {
  return { buffer: b, strides: contiguousStrides(shape), offset: 0, elem };
}

/** dst[i] = convert(src[i]) over the views' common shape; same-dtype copies move raw words. */
export function copy(ctx: KernelContext, src: StridedView, dst: StridedView): void {
  const from: DType = src.buffer.dtype;
  const to: DType = dst.buffer.dtype;
  const same = from === to;
  elementwise(ctx, {
    name: "copy",
    shape: dst.shape,
    inputs: [viewOperand(src, same ? "word" : from, "copy")],
    output: viewOperand(dst, same ? "word" : to, "copy"),
    body: ([v]) => convert(v!, from, to),
  });
}

/** The 32-bit word a value has when stored as `dtype` (bool is 0/1, int32 wraps like `x | 0`). */
export function wordOf(value: number, dtype: DType): number {
  if (dtype === "bool") return value !== 0 ? 1 : 0;
  if (dtype === "int32") return (value | 0) >>> 0;
  return new Uint32Array(Float32Array.of(value).buffer)[0]!;
}

/** Sets every element of `b` to `value`. */
export function fill(ctx: KernelContext, b: WebGPUBuffer, value: number): void {
  elementwise(ctx, {
    name: "fill",
    shape: [b.size],
    inputs: [],
    output: denseOperand(b, [b.size], "word"),
    body: () => "P(1u)",
    extra: [wordOf(value, b.dtype)],
  });
}
