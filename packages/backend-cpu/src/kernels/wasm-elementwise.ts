/**
 * Float32 elementwise ops and row sums on the WebAssembly SIMD kernels, over tensors in the
 * kernels' memory. Rows (after merging contiguous axes) whose strides are 0 or 1 go to wasm;
 * other rows, short rows and other dtypes run the TypeScript kernels, so every view works.
 */
import type { BinaryOp, StridedView, TypedArray, UnaryOp } from "@tessera/tensor";
import { dataOf, ptrOf } from "../buffer.js";
import { forEachRow } from "../strided.js";
import { WASM_BINARY, WASM_UNARY, type WasmBinaryOp, type WasmKernels, type WasmUnaryOp } from "../wasm/index.js";
import { BINARY, binary, F32_BINARY, F32_UNARY, UNARY, unary } from "./elementwise.js";

/** Rows shorter than this cost less in JavaScript than a call into wasm. */
const MIN_WASM_ROW = 8;

const isWasmUnary = (op: UnaryOp): op is WasmUnaryOp => (WASM_UNARY as readonly string[]).includes(op);
const isWasmBinary = (op: BinaryOp): op is WasmBinaryOp => (WASM_BINARY as readonly string[]).includes(op);

/** `out = op(x)`; out is contiguous with x's shape. */
export function wasmUnary(k: WasmKernels, op: UnaryOp, x: StridedView, out: TypedArray, outPtr: number): void {
  if (x.buffer.dtype !== "float32" || !isWasmUnary(op)) {
    unary(op, x, out);
    return;
  }
  const src = dataOf(x.buffer);
  const base = ptrOf(x.buffer);
  const row = F32_UNARY[op];
  const f = UNARY[op];
  const kernel = k.exports[`unary_${op}`];
  let pos = 0;
  if (x.offset === 0 && out.length === x.buffer.size && isContiguousView(x)) {
    // one run: the kernels may share it out between threads
    k.unary(op, out.length, base, outPtr);
    return;
  }
  forEachRow(x.shape, [x.strides], [x.offset], (n, [o], [s]) => {
    // rows of a view lie inside its buffer, so they go straight to the export, unchecked
    if (s === 1 && n >= MIN_WASM_ROW) kernel(n, base + 4 * o!, outPtr + 4 * pos);
    else if (row) row(n, src, o!, s!, out, pos);
    else for (let i = 0, j = o!; i < n; i++, j += s!) out[pos + i] = f(src[j]!);
    pos += n;
  });
}

/** `out = a op b`; a and b have out's shape (broadcast axes have stride 0). */
export function wasmBinary(k: WasmKernels, op: BinaryOp, a: StridedView, b: StridedView, out: TypedArray, outPtr: number): void {
  if (a.buffer.dtype !== "float32" || !isWasmBinary(op)) {
    binary(op, a, b, out, a.buffer.dtype);
    return;
  }
  const da = dataOf(a.buffer);
  const db = dataOf(b.buffer);
  const pa = ptrOf(a.buffer);
  const pb = ptrOf(b.buffer);
  const row = F32_BINARY[op];
  const f = BINARY[op];
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
  forEachRow(a.shape, [a.strides, b.strides], [a.offset, b.offset], (n, [oa, ob], [sa, sb]) => {
    if ((sa === 0 || sa === 1) && (sb === 0 || sb === 1) && n >= MIN_WASM_ROW) {
      kernel(n, pa + 4 * oa!, sa, pb + 4 * ob!, sb, outPtr + 4 * pos);
    } else if (row) {
      row(n, da, oa!, sa!, db, ob!, sb!, out, pos);
    } else {
      for (let i = 0, ja = oa!, jb = ob!; i < n; i++, ja += sa!, jb += sb!) out[pos + i] = f(da[ja]!, db[jb]!);
    }
    pos += n;
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
