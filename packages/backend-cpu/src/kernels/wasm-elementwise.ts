/**
 * Float32 elementwise ops on the WebAssembly SIMD kernels, over tensors in the kernels' memory.
 * Every row of a float32 view goes to wasm, whatever its strides or length: exp, tanh and
 * sigmoid (polynomials) and maximum/minimum (signed zeros) would give other bits in
 * TypeScript, and a tensor must not get different results for being a transposed view or a
 * slice. Other ops and dtypes run the TypeScript kernels.
 */
import type { BinaryOp, StridedView, TypedArray, UnaryOp } from "@tessera/tensor";
import { ptrOf } from "../buffer.js";
import { forEachRow } from "../strided.js";
import { WASM_BINARY, WASM_UNARY, type WasmBinaryOp, type WasmKernels, type WasmUnaryOp } from "../wasm/index.js";
import { binary, unary } from "./elementwise.js";

const isWasmUnary = (op: UnaryOp): op is WasmUnaryOp => (WASM_UNARY as readonly string[]).includes(op);
const isWasmBinary = (op: BinaryOp): op is WasmBinaryOp => (WASM_BINARY as readonly string[]).includes(op);

/** `out = op(x)`; out is contiguous with x's shape. */
export function wasmUnary(k: WasmKernels, op: UnaryOp, x: StridedView, out: TypedArray, outPtr: number): void {
  if (x.buffer.dtype !== "float32" || !isWasmUnary(op)) {
    unary(op, x, out);
    return;
  }
  const base = ptrOf(x.buffer);
  const kernel = k.exports[`unary_${op}`];
  if (x.offset === 0 && out.length === x.buffer.size && isContiguousView(x)) {
    // one run: the kernels may share it out between threads
    k.unary(op, out.length, base, outPtr);
    return;
  }
  let pos = 0;
  // rows of a view lie inside its buffer, so they go straight to the export, unchecked
  forEachRow(x.shape, [x.strides], [x.offset], (n, [o], [s]) => {
    kernel(n, base + 4 * o!, s!, outPtr + 4 * pos);
    pos += n;
  });
}

/** `out = a op b`; a and b have out's shape (broadcast axes have stride 0). */
export function wasmBinary(k: WasmKernels, op: BinaryOp, a: StridedView, b: StridedView, out: TypedArray, outPtr: number): void {
  if (a.buffer.dtype !== "float32" || !isWasmBinary(op)) {
    binary(op, a, b, out, a.buffer.dtype);
    return;
  }
  const pa = ptrOf(a.buffer);
  const pb = ptrOf(b.buffer);
  const kernel = k.exports[`binary_${op}`];
  const n = out.length;
  const flat = (v: StridedView) => (v.offset === 0 && v.buffer.size === n && isContiguousView(v) ? 1 : isScalarView(v) ? 0 : -1);
  const fa = flat(a);
  const fb = flat(b);
  if (fa >= 0 && fb >= 0) {
    k.binary(op, n, pa + 4 * a.offset, fa as 0 | 1, pb + 4 * b.offset, fb as 0 | 1, outPtr);
    return;
  }
  let pos = 0;
  forEachRow(a.shape, [a.strides, b.strides], [a.offset, b.offset], (len, [oa, ob], [sa, sb]) => {
    kernel(len, pa + 4 * oa!, sa!, pb + 4 * ob!, sb!, outPtr + 4 * pos);
    pos += len;
  });
}

/** Whether a view's elements are its buffer's, in order. */
function isContiguousView(v: StridedView): boolean {
  let expected = 1;
  for (let i = v.shape.length - 1; i >= 0; i--) {
    const d = v.shape[i]!;
    if (d !== 1 && v.strides[i] !== expected) return false;
    expected *= d;
  }
  return true;
}

/** Whether every index of a view reads one element (all strides 0 or size-1 axes). */
function isScalarView(v: StridedView): boolean {
  return v.shape.every((d, i) => d === 1 || v.strides[i] === 0);
}
