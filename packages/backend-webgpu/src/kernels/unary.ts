/** `unary`: elementwise math, NaN semantics as NumPy/PyTorch (and the core's reference). */
import type { WebGPUBuffer } from "../buffer.js";
import type { DType, StridedView, UnaryOp } from "../contract.js";
import type { KernelContext } from "./context.js";
import { denseOperand, viewOperand } from "./copy.js";
import { elementwise } from "./elementwise.js";
import { type Elem, convert, wgslType } from "./wgsl.js";

/** Unary ops computed in float32 whatever the operand's dtype. */
export const UNARY_FLOAT_ONLY: ReadonlySet<UnaryOp> = new Set<UnaryOp>(["exp", "log", "sqrt", "tanh", "sigmoid", "sin", "cos"]);
const FLOAT_ONLY = UNARY_FLOAT_ONLY;

/** WGSL for `op` on value `v` computed in `t`, and the element type of the result. */
export function unaryBody(op: UnaryOp, t: Elem, v: string): [string, Elem] {
  if (op === "logicalNot") {
    return [t === "float32" ? `select(0u, 1u, ${v} == 0.0)` : `select(0u, 1u, ${v} == ${t === "int32" ? "0" : "0u"})`, "bool"];
  }
  if (t === "bool") {
    // Every other op maps {0, 1} to itself once the result is read back as bool.
    return [v, t];
  }
  if (t === "int32") {
    switch (op) {
      case "neg":
        return [`-${v}`, t];
      case "abs":
        return [`abs(${v})`, t];
      case "sign":
        return [`sign(${v})`, t];
      case "relu":
        return [`max(${v}, 0)`, t];
      default:
        return [v, t]; // floor, ceil
    }
  }
  switch (op) {
    case "neg":
      return [`-${v}`, t];
    case "abs":
      return [`abs(${v})`, t];
    case "sign":
      // 0 -> 0, -0 -> -0, NaN -> NaN (WGSL's sign maps NaN to 0).
      return [`select(select(${v}, -1.0, ${v} < 0.0), 1.0, ${v} > 0.0)`, t];
    case "exp":
      return [`exp(${v})`, t];
    case "log":
      return [`select(log(${v}), nan_f(), ${v} < 0.0)`, t];
    case "sqrt":
      return [`select(sqrt(${v}), nan_f(), ${v} < 0.0)`, t];
    case "tanh":
      // Some drivers compute tanh as a ratio of exponentials that overflows to NaN for large |x|.
      return [`select(tanh(${v}), sign(${v}), abs(${v}) > 15.0)`, t];
    case "sigmoid":
      return [`1.0 / (1.0 + exp(-${v}))`, t];
    case "relu":
      return [`select(${v}, 0.0, ${v} < 0.0)`, t];
    case "floor":
      return [`floor(${v})`, t];
    case "ceil":
      return [`ceil(${v})`, t];
    case "sin":
      return [`sin(${v})`, t];
    case "cos":
      return [`cos(${v})`, t];
  }
  throw new Error(`webgpu: unknown unary op '${String(op)}'`);
}

/** out = op(x); out is contiguous with x's shape. */
export function unary(ctx: KernelContext, op: UnaryOp, x: StridedView, out: WebGPUBuffer): void {
  const from: DType = x.buffer.dtype;
  const t: DType = FLOAT_ONLY.has(op) ? "float32" : from;
  const [expr, resultElem] = unaryBody(op, t, "v");
  elementwise(ctx, {
    name: `unary.${op}`,
    shape: x.shape,
    inputs: [viewOperand(x, from, "unary")],
    output: denseOperand(out, x.shape, out.dtype),
    helpers: `fn unary_op(v: ${wgslType(t)}) -> ${wgslType(resultElem)} { return ${expr}; }`,
    body: ([v]) => convert(`unary_op(${convert(v!, from, t)})`, resultElem, out.dtype),
  });
}
