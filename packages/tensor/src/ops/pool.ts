import type { Shape4 } from "../backend/contract.js";
import { TesseraError, fmtShape } from "../errors.js";
import { type Tensor, emptyTensor } from "../tensor.js";
import { avgPool2dBackwardFallback, avgPool2dFallback, maxPool2dBackwardFallback, maxPool2dFallback } from "../fallbacks/pool.js";
import { asTensor } from "./convert.js";
import { assertFloat32, withContiguous } from "./conv.js";
import { type Pool2dOptions, poolParams, poolShape } from "./geometry.js";
import { recordOp } from "./record.js";

/**
 * Max over each window of NCHW `x`. `ignoreBorder: false` (Theano) / `ceilMode: true` (PyTorch)
 * keeps partial windows at the bottom/right border.
 */
export function maxPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  const op = "maxPool2d";
  const t = asTensor(x, op);
  const p = poolParams(op, options);
  assertFloat32(op, "input", t);
  const outShape = poolShape(op, t.shape, p);
  return recordOp(op, [t], { params: p }, () => {
    const kernel = t.backend.kernels?.maxPool2d;
    if (!kernel) return maxPool2dFallback(t, p, outShape);
    return withContiguous([t], ([c]) => {
      const out = emptyTensor(t.backend, outShape, "float32");
      if (out.size > 0) kernel.call(t.backend.kernels, c!.storage.buffer, t.shape as Shape4, out.storage.buffer, outShape, p);
      return out;
    });
  });
}

/** Gradient of `maxPool2d`: routes each dy to the first maximum of its window. */
export function maxPool2dBackward(x: Tensor, dy: Tensor, options: Pool2dOptions): Tensor {
  const op = "maxPool2dBackward";
  const t = asTensor(x, op);
  const g = asTensor(dy, op);
  const p = poolParams(op, options);
  assertFloat32(op, "input", t);
  assertFloat32(op, "dy", g);
  const outShape = poolShape(op, t.shape, p);
  if (g.rank !== 4 || outShape.some((d, i) => d !== g.shape[i])) {
    throw new TesseraError(op, `dy has shape ${fmtShape(g.shape)}, expected ${fmtShape(outShape)}`);
  }
  return recordOp(op, [t, g], { params: p }, () => {
    const kernel = t.backend.kernels?.maxPool2dBackward;
    if (!kernel) return maxPool2dBackwardFallback(t, g, p);
    return withContiguous([t, g], ([cx, cg]) => {
      const out = emptyTensor(t.backend, t.shape, "float32");
      if (out.size > 0) kernel.call(t.backend.kernels, cx!.storage.buffer, t.shape as Shape4, cg!.storage.buffer, outShape, out.storage.buffer, p);
      return out;
    });
  });
}

/** Mean over each window, counting only the input cells it covers. */
export function avgPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  const op = "avgPool2d";
  const t = asTensor(x, op);
  const p = poolParams(op, options);
  assertFloat32(op, "input", t);
  const outShape = poolShape(op, t.shape, p);
  return recordOp(op, [t], { params: p }, () => {
    const kernel = t.backend.kernels?.avgPool2d;
    if (!kernel) return avgPool2dFallback(t, p, outShape);
    return withContiguous([t], ([c]) => {
      const out = emptyTensor(t.backend, outShape, "float32");
      if (out.size > 0) kernel.call(t.backend.kernels, c!.storage.buffer, t.shape as Shape4, out.storage.buffer, outShape, p);
      return out;
    });
  });
}

/** Gradient of `avgPool2d`: spreads each dy evenly over the input cells of its window. */
export function avgPool2dBackward(dy: Tensor, xShape: readonly number[], options: Pool2dOptions): Tensor {
  const op = "avgPool2dBackward";
  const g = asTensor(dy, op);
  const p = poolParams(op, options);
  assertFloat32(op, "dy", g);
  const outShape = poolShape(op, xShape, p);
  if (g.rank !== 4 || outShape.some((d, i) => d !== g.shape[i])) {
    throw new TesseraError(op, `dy has shape ${fmtShape(g.shape)}, expected ${fmtShape(outShape)} for input ${fmtShape(xShape)}`);
  }
  const xs = [...xShape] as unknown as Shape4;
  return recordOp(op, [g], { params: p, xShape: xs }, () => {
    const kernel = g.backend.kernels?.avgPool2dBackward;
    if (!kernel) return avgPool2dBackwardFallback(g, xs, p);
    return withContiguous([g], ([cg]) => {
      const out = emptyTensor(g.backend, xs, "float32");
      if (out.size > 0) kernel.call(g.backend.kernels, cg!.storage.buffer, outShape, out.storage.buffer, xs, p);
      return out;
    });
  });
}
