/** `binary` and `where`: elementwise over two or three strided (possibly broadcast) operands. */
import type { WebGPUBuffer } from "../buffer.js";
import type { BinaryOp, DType, StridedView } from "../contract.js";
import type { KernelContext } from "./context.js";
import { denseOperand, viewOperand } from "./copy.js";
import { elementwise } from "./elementwise.js";
import { type Elem, convert, wgslType, zero } from "./wgsl.js";

/** C99 pow on f32 (NumPy semantics, as the core's reference): WGSL's pow is undefined for x < 0. */
export const POW_WGSL = /* wgsl */ `
fn c_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0 || x == 1.0) { return 1.0; }
  if (isnan_f(x) || isnan_f(y)) { return nan_f(); }
  let ay = abs(y);
  if (x == -1.0 && ay == inf_f()) { return 1.0; }
  if (y == 1.0) { return x; }
  if (y == 2.0) { return x * x; }
  let ax = abs(x);
  let isInt = floor(y) == y;
  let odd = isInt && ay < 16777216.0 && (u32(ay) & 1u) == 1u;
  var r: f32;
  if (ax == 0.0) {
    r = select(0.0, inf_f(), y < 0.0);
  } else {
    r = exp2(y * log2(ax));
  }
  if (x < 0.0 || (ax == 0.0 && bitcast<u32>(x) == 0x80000000u)) {
    if (!isInt && x < 0.0) { return nan_f(); }
    if (odd) { r = -r; }
  }
  return r;
}
`;

/** Binary ops computed in float32 whatever the operands' dtype. */
export const BINARY_FLOAT_ONLY: ReadonlySet<BinaryOp> = new Set<BinaryOp>(["div", "pow"]);
const FLOAT_ONLY = BINARY_FLOAT_ONLY;

/** WGSL for `a op b` computed in `t`, and the element type of the result. */
export function binaryBody(op: BinaryOp, t: Elem): [string, Elem] {
  const z = zero(t);
  const cmp = (c: string): [string, Elem] => [`select(0u, 1u, ${c})`, "bool"];
  switch (op) {
    case "equal":
      return cmp("a == b");
    case "notEqual":
      // Not `a != b`: Tint emits an ordered compare, false when either side is NaN.
      return cmp("!(a == b)");
    case "less":
      return cmp("a < b");
    case "lessEqual":
      return cmp("a <= b");
    case "greater":
      return cmp("a > b");
    case "greaterEqual":
      return cmp("a >= b");
    case "logicalAnd":
      return cmp(`!(a == ${z}) && !(b == ${z})`);
    case "logicalOr":
      return cmp(`!(a == ${z}) || !(b == ${z})`);
  }
  if (t === "bool") {
    // Arithmetic on bools, read back as bool: + and max are or, * and min are and, - is xor.
    switch (op) {
      case "add":
      case "maximum":
        return ["a | b", t];
      case "mul":
      case "minimum":
        return ["a & b", t];
      case "sub":
        return ["a ^ b", t];
    }
  }
  switch (op) {
    case "add":
      return ["a + b", t];
    case "sub":
      return ["a - b", t];
    case "mul":
      return ["a * b", t];
    case "div":
      return ["a / b", t];
    case "pow":
      return ["c_pow(a, b)", t];
    case "maximum":
      // NaN propagates (NumPy); WGSL's max leaves NaN handling to the driver.
      return t === "float32" ? ["select(max(a, b), a + b, isnan_f(a) || isnan_f(b))", t] : ["max(a, b)", t];
    case "minimum":
      return t === "float32" ? ["select(min(a, b), a + b, isnan_f(a) || isnan_f(b))", t] : ["min(a, b)", t];
  }
  throw new Error(`webgpu: unknown binary op '${String(op)}'`);
}

/** out = a op b; a and b already have out's shape (broadcast dimensions have stride 0). */
export function binary(ctx: KernelContext, op: BinaryOp, a: StridedView, b: StridedView, out: WebGPUBuffer): void {
  const from: DType = a.buffer.dtype;
  const bFrom: DType = b.buffer.dtype;
  const t: DType = FLOAT_ONLY.has(op) ? "float32" : from;
  const [expr, resultElem] = binaryBody(op, t);
  const ty = wgslType(t);
  elementwise(ctx, {
    name: `binary.${op}`,
    shape: a.shape,
    inputs: [viewOperand(a, from, "binary"), viewOperand(b, bFrom, "binary")],
    output: denseOperand(out, a.shape, out.dtype),
    helpers: `${op === "pow" ? POW_WGSL : ""}
fn binary_op(a: ${ty}, b: ${ty}) -> ${wgslType(resultElem)} { return ${expr}; }`,
    body: ([va, vb]) => convert(`binary_op(${convert(va!, from, t)}, ${convert(vb!, bFrom, t)})`, resultElem, out.dtype),
  });
}

/** out = cond ? a : b; a, b and out share a dtype, so values move as raw words. */
export function where(ctx: KernelContext, cond: StridedView, a: StridedView, b: StridedView, out: WebGPUBuffer): void {
  const c: DType = cond.buffer.dtype;
  const sameAB = a.buffer.dtype === out.dtype && b.buffer.dtype === out.dtype;
  const ea: Elem = sameAB ? "word" : a.buffer.dtype;
  const eb: Elem = sameAB ? "word" : b.buffer.dtype;
  const eo: Elem = sameAB ? "word" : out.dtype;
  elementwise(ctx, {
    name: "where",
    shape: cond.shape,
    inputs: [viewOperand(cond, c, "where"), viewOperand(a, ea, "where"), viewOperand(b, eb, "where")],
    output: denseOperand(out, cond.shape, eo),
    body: ([vc, va, vb]) => `select(${convert(vb!, eb, eo)}, ${convert(va!, ea, eo)}, ${convert(vc!, c, "bool")} != 0u)`,
  });
}
