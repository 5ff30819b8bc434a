/** `matmul`: batched, strided operands (batch stride may be 0), through the GEMM template. */
import { type WebGPUBuffer, gpuBuffer } from "../buffer.js";
import type { DType, StridedView } from "../contract.js";
import type { KernelContext } from "./context.js";
import { GEMM_PARAMS, colsPerLane, gemm, outerProduct } from "./gemm.js";
import { BindingSet, type SpanSource, convert, load, span } from "./wgsl.js";

/** The accumulation type of a GEMM over operands of `dtype`. */
export function accType(dtype: DType): "float32" | "int32" {
  return dtype === "float32" ? "float32" : "int32";
}

/**
 * out[b] = a[b] @ b[b]; a is [B,M,K], b is [B,K,N], out contiguous [B,M,N].
 * The template's rows are M and its lanes run over N, or the other way round (out^T = b^T a^T)
 * when M is the longer side, so that lanes cover the longer side of the output.
 */
export function matmul(ctx: KernelContext, a: StridedView, b: StridedView, out: WebGPUBuffer): void {
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const ab = gpuBuffer(a.buffer, "matmul");
  const bb = gpuBuffer(b.buffer, "matmul");
  const acc = accType(a.buffer.dtype === "float32" || b.buffer.dtype === "float32" ? "float32" : a.buffer.dtype);
  const flip = M > N;
  // Row operand: [batch stride, row stride, k stride]; column operand: [batch, k, column].
  const [rowView, colView] = flip ? [b, a] : [a, b];
  const rowStrides = flip ? [b.strides[0]!, b.strides[2]!, b.strides[1]!] : [a.strides[0]!, a.strides[1]!, a.strides[2]!];
  const colStrides = flip ? [a.strides[0]!, a.strides[2]!, a.strides[1]!] : [b.strides[0]!, b.strides[1]!, b.strides[2]!];
  const rowBuf = flip ? bb : ab;
  const colBuf = flip ? ab : bb;
  const bindings = new BindingSet();
  const nr = bindings.use(rowBuf);
  const nc = bindings.use(colBuf);
  const p = (i: number) => `Pi(${GEMM_PARAMS + i}u)`;
  // Output strides of (row, column): [N, 1], or [1, N] when flipped.
  const custom = [rowView.offset, ...rowStrides, colView.offset, ...colStrides, flip ? 1 : N, flip ? N : 1, M * N].map((v) => v >>> 0);
  const rows = flip ? N : M;
  const cols = flip ? M : N;
  const cn = colsPerLane(cols);
  const custom2 = [...custom, cols];
  const colsAt = `P(${GEMM_PARAMS + custom.length}u)`;
  // Four k at a time through vec4 views where an operand is contiguous along k (or, for the column
  // operand, along its columns); `aligned` when every such run starts at a multiple of 4.
  // The row operand runs along k, or along its rows (read as whole groups of rows per k).
  const rowMode = rowStrides[2] === 1 ? "k" : rowStrides[1] === 1 && rows >= 4 ? "m" : "scalar";
  const rowSrc: SpanSource = { scalar: nr, vec4: rowMode !== "scalar" ? bindings.useVec4(rowBuf, rowBuf.gpu === out.gpu) : null, elem: rowBuf.dtype };
  const colMode = colStrides[1] === 1 ? "k" : colStrides[2] === 1 && cn % 4 === 0 ? "n" : "scalar";
  const colSrc: SpanSource = { scalar: nc, vec4: colMode !== "scalar" ? bindings.useVec4(colBuf, colBuf.gpu === out.gpu) : null, elem: colBuf.dtype };
  const m4 = (...v: number[]) => v.every((x) => x % 4 === 0);
  const rowAligned = rowMode === "k" ? m4(rowView.offset, rowStrides[0]!, rowStrides[1]!) : m4(rowView.offset, rowStrides[0]!, rowStrides[2]!);
  const colAligned = colMode === "k" ? m4(colView.offset, colStrides[0]!, colStrides[2]!) : m4(colView.offset, colStrides[0]!, colStrides[1]!);
  const variant = `${rowSrc.vec4 ? (rowAligned ? rowMode.toUpperCase() : rowMode) : "s"}${colSrc.vec4 ? (colAligned ? colMode.toUpperCase() : colMode) : "s"}`;
  gemm(ctx, {
    key: `matmul:${rowBuf.dtype}:${colBuf.dtype}:${variant}`,
    label: "matmul",
    z: B,
    rows,
    blocks: Math.ceil(cols / cn),
    cn,
    K,
    units: K,
    unitAlign: 4,
    acc,
    bindings,
    custom: custom2,
    body: (rm) => {
      const setup = Array.from(
        { length: cn },
        (_, j) => `  let c${j} = min(lb * ${cn}u + ${j}u, ${colsAt} - 1u);\n  let cc_${j} = colBase + i32(c${j}) * ${p(7)};`,
      );
      const rowLoad = (i: number, kk: string) => convert(load(rowBuf.dtype, nr, `u32(rowBase + i32(r${i}) * ${p(2)} + ${kk} * rk)`), rowBuf.dtype, acc);
      const colLoad = (j: number, kk: string) => convert(load(colBuf.dtype, nc, `u32(cc_${j} + ${kk} * ck)`), colBuf.dtype, acc);
      // Main loop: a{i}_{t} and b{j}_{t} are row i and column j at k + t.
      const main: string[] = [];
      if (rowMode === "m" && rowSrc.vec4 && rm % 4 === 0) {
        // Rows row0 .. row0 + rm - 1 are contiguous (past the last row the values are unused).
        for (let t = 0; t < 4; t++) {
          main.push(span(`at${t}_`, rowSrc, `rowBase + i32(row0) + i32(k + ${t}u) * rk`, rm, acc, { aligned: rowAligned }));
          for (let i = 0; i < rm; i++) main.push(`let a${i}_${t} = at${t}_${i};`);
        }
      } else {
        for (let i = 0; i < rm; i++) {
          if (rowMode === "k" && rowSrc.vec4) main.push(span(`a${i}_`, rowSrc, `rowBase + i32(r${i}) * ${p(2)} + i32(k)`, 4, acc, { aligned: rowAligned }));
          else for (let t = 0; t < 4; t++) main.push(`let a${i}_${t} = ${rowLoad(i, `i32(k + ${t}u)`)};`);
        }
      }
      if (colMode === "k" && colSrc.vec4) {
        for (let j = 0; j < cn; j++) main.push(span(`b${j}_`, colSrc, `cc_${j} + i32(k)`, 4, acc, { aligned: colAligned }));
      } else if (colMode === "n" && colSrc.vec4) {
        // Columns c0 .. c0 + cn - 1 are contiguous (past the last column the values are unused).
        for (let t = 0; t < 4; t++) {
          main.push(span(`bt${t}_`, colSrc, `colBase + i32(lb * ${cn}u) + i32(k + ${t}u) * ck`, cn, acc, { aligned: colAligned }));
          for (let j = 0; j < cn; j++) main.push(`let b${j}_${t} = bt${t}_${j};`);
        }
      } else {
        for (let j = 0; j < cn; j++) for (let t = 0; t < 4; t++) main.push(`let b${j}_${t} = ${colLoad(j, `i32(k + ${t}u)`)};`);
      }
      for (let i = 0; i < rm; i++) for (let j = 0; j < cn; j++) main.push(`acc${i}_${j} += ${[0, 1, 2, 3].map((t) => `a${i}_${t} * b${j}_${t}`).join(" + ")};`);
      return `  let g = zi;
  let rowBase = ${p(0)} + i32(g) * ${p(1)};
  let colBase = ${p(4)} + i32(g) * ${p(5)};
  let rk = ${p(3)};
  let ck = ${p(6)};
${setup.join("\n")}
  var k = uBegin;
  for (; k + 4u <= uEnd; k += 4u) {
${main.join("\n")}
  }
  for (; k < uEnd; k++) {
${outerProduct(
  rm,
  cn,
  (i) => rowLoad(i, "i32(k)"),
  (j) => colLoad(j, "i32(k)"),
)}
  }`;
    },
    outIndex: (i, j) => `zi * P(${GEMM_PARAMS + 10}u) + r${i} * P(${GEMM_PARAMS + 8}u) + c${j} * P(${GEMM_PARAMS + 9}u)`,
    colValid: (j) => `lb * ${cn}u + ${j}u < ${colsAt}`,
    out,
  });
}
