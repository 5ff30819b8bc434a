import type { Shape4 } from "../backend/contract.js";
import { TesseraError, fmtShape } from "../errors.js";
import { type Tensor, emptyTensor } from "../tensor.js";
import { conv2dBackwardInputFallback, conv2dBackwardWeightFallback, conv2dFallback } from "../fallbacks/conv.js";
import { asTensor } from "./convert.js";
import { contiguousCopy } from "./elementwise.js";
import { type Conv2dOptions, convParams, convShapes } from "./geometry.js";
import { recordOp } from "./record.js";

function float32(op: string, name: string, t: Tensor): void {
  if (t.dtype !== "float32") throw new TesseraError(op, `${name} must be float32, got ${t.dtype}`);
}

function sameBackend(op: string, a: Tensor, b: Tensor): void {
  if (a.backend !== b.backend) throw new TesseraError(op, `operands live on different backends ('${a.backend.name}' and '${b.backend.name}')`);
}

/** Runs `fn` on contiguous versions of the operands, disposing any copies it made. */
function withContiguous<T>(ts: Tensor[], fn: (cs: Tensor[]) => T): T {
  const cs = ts.map((t) => (t.isContiguous ? t : contiguousCopy(t)));
  try {
    return fn(cs);
  } finally {
    cs.forEach((c, i) => c !== ts[i] && c.dispose());
  }
}

/**
 * 2-D convolution of NCHW `x` with `w` [O, C/groups, KH, KW], computed as cross-correlation
 * (as PyTorch does). Bias is added by the caller (`nn.Conv2d`).
 */
export function conv2d(x: Tensor, w: Tensor, options: Conv2dOptions = {}): Tensor {
  const op = "conv2d";
  const tx = asTensor(x, op);
  const tw = asTensor(w, op);
  const p = convParams(op, options);
  float32(op, "input", tx);
  float32(op, "weight", tw);
  sameBackend(op, tx, tw);
  const outShape = convShapes(op, tx.shape, tw.shape, p);
  return recordOp(op, [tx, tw], { params: p }, () => {
    const kernel = tx.backend.kernels?.conv2d;
    if (!kernel) return conv2dFallback(tx, tw, p, outShape);
    return withContiguous([tx, tw], ([cx, cw]) => {
      const out = emptyTensor(tx.backend, outShape, "float32");
      if (out.size > 0)
        kernel.call(tx.backend.kernels, cx!.storage.buffer, tx.shape as Shape4, cw!.storage.buffer, tw.shape as Shape4, out.storage.buffer, outShape, p);
      return out;
    });
  });
}

/** Gradient of `conv2d` with respect to its input: dy [N,O,OH,OW] -> [N,C,H,W] (`xShape`). */
export function conv2dBackwardInput(dy: Tensor, w: Tensor, xShape: readonly number[], options: Conv2dOptions = {}): Tensor {
  const op = "conv2dBackwardInput";
  const tdy = asTensor(dy, op);
  const tw = asTensor(w, op);
  const p = convParams(op, options);
  float32(op, "dy", tdy);
  float32(op, "weight", tw);
  sameBackend(op, tdy, tw);
  const outShape = convShapes(op, xShape, tw.shape, p);
  if (outShape.some((d, i) => d !== tdy.shape[i]) || tdy.rank !== 4) {
    throw new TesseraError(
      op,
      `dy has shape ${fmtShape(tdy.shape)} but conv2d of ${fmtShape(xShape)} with weight ${fmtShape(tw.shape)} gives ${fmtShape(outShape)}`,
    );
  }
  const xs = [...xShape] as unknown as Shape4;
  return recordOp(op, [tdy, tw], { params: p, xShape: xs }, () => {
    const kernel = tdy.backend.kernels?.conv2dBackwardInput;
    if (!kernel) return conv2dBackwardInputFallback(tdy, tw, xs, p);
    return withContiguous([tdy, tw], ([cdy, cw]) => {
      const out = emptyTensor(tdy.backend, xs, "float32");
      if (out.size > 0) kernel.call(tdy.backend.kernels, cdy!.storage.buffer, outShape, cw!.storage.buffer, tw.shape as Shape4, out.storage.buffer, xs, p);
      return out;
    });
  });
}

/** Gradient of `conv2d` with respect to its weight: -> [O,C/groups,KH,KW] (`wShape`). */
export function conv2dBackwardWeight(x: Tensor, dy: Tensor, wShape: readonly number[], options: Conv2dOptions = {}): Tensor {
  const op = "conv2dBackwardWeight";
  const tx = asTensor(x, op);
  const tdy = asTensor(dy, op);
  const p = convParams(op, options);
  float32(op, "input", tx);
  float32(op, "dy", tdy);
  sameBackend(op, tx, tdy);
  const outShape = convShapes(op, tx.shape, wShape, p);
  if (outShape.some((d, i) => d !== tdy.shape[i]) || tdy.rank !== 4) {
    throw new TesseraError(
      op,
      `dy has shape ${fmtShape(tdy.shape)} but conv2d of ${fmtShape(tx.shape)} with weight ${fmtShape(wShape)} gives ${fmtShape(outShape)}`,
    );
  }
  const ws = [...wShape] as unknown as Shape4;
  return recordOp(op, [tx, tdy], { params: p, wShape: ws }, () => {
    const kernel = tx.backend.kernels?.conv2dBackwardWeight;
    if (!kernel) return conv2dBackwardWeightFallback(tx, tdy, ws, p);
    return withContiguous([tx, tdy], ([cx, cdy]) => {
      const out = emptyTensor(tx.backend, ws, "float32");
      if (out.size > 0) kernel.call(tx.backend.kernels, cx!.storage.buffer, tx.shape as Shape4, cdy!.storage.buffer, outShape, out.storage.buffer, ws, p);
      return out;
    });
  });
}

export { withContiguous, float32 as assertFloat32 };
