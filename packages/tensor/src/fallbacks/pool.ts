import type { Pool2dParams, Shape4 } from "../backend/contract.js";
import { tidy } from "../memory/scope.js";
import type { Tensor } from "../tensor.js";
import { ones, zeros } from "../ops/creation.js";
import { cast, contiguous, div, equal, mul } from "../ops/elementwise.js";
import { argmax, max, sum } from "../ops/reduce.js";
import { pad } from "../ops/shaping.js";
import { reshape, slice } from "../ops/views.js";
import { foldAdd, windows } from "./unfold.js";

/** Padding that makes every window (ceil-mode ones included) lie inside the padded input. */
function poolPads(xShape: readonly number[], out: readonly [number, number], p: Pool2dParams): [[number, number], [number, number]] {
  const pads: [number, number][] = [];
  for (let a = 0; a < 2; a++) {
    const n = xShape[2 + a]!;
    const reach = (out[a]! - 1) * p.stride[a]! + p.kernel[a]!;
    pads.push([p.padding[a]!, Math.max(0, reach - n - p.padding[a]!)]);
  }
  return pads as [[number, number], [number, number]];
}

function padded(x: Tensor, out: readonly [number, number], p: Pool2dParams, value: number): Tensor {
  const [ph, pw] = poolPads(x.shape, out, p);
  return pad(x, [[0, 0], [0, 0], ph, pw], value);
}

/** maxPool2d from primitives: pad with -inf, view the windows, reduce max. */
export function maxPool2dFallback(x: Tensor, p: Pool2dParams, outShape: Shape4): Tensor {
  return tidy(() => {
    const out: [number, number] = [outShape[2], outShape[3]];
    const win = windows(padded(x, out, p, -Infinity), out, p.kernel, p.stride, [1, 1]);
    return max(win, [4, 5]);
  });
}

/** Gradient of maxPool2d from primitives: argmax per window, one fold per kernel position. */
export function maxPool2dBackwardFallback(x: Tensor, dy: Tensor, p: Pool2dParams): Tensor {
  return tidy(() => {
    const [N, C, H, W] = x.shape as Shape4;
    const out: [number, number] = [dy.shape[2]!, dy.shape[3]!];
    const xp = padded(x, out, p, -Infinity);
    const win = reshape(windows(xp, out, p.kernel, p.stride, [1, 1]), [N, C, out[0], out[1], p.kernel[0] * p.kernel[1]]);
    const first = argmax(win, 4);
    const target = zeros(xp.shape, { backend: x.backend });
    for (let i = 0; i < p.kernel[0]; i++) {
      for (let j = 0; j < p.kernel[1]; j++) {
        const chosen = cast(equal(first, i * p.kernel[1] + j), "float32");
        foldAdd(target, mul(dy, chosen), i, j, p.stride);
      }
    }
    const [ph, pw] = [p.padding[0], p.padding[1]];
    return contiguous(slice(target, [null, null, { start: ph, end: ph + H }, { start: pw, end: pw + W }]));
  });
}

/** How many real input cells each window covers: a sum-pool of ones padded with zeros. */
function windowCounts(xShape: readonly number[], out: readonly [number, number], p: Pool2dParams, x: Tensor): Tensor {
  const one = ones([1, 1, xShape[2]!, xShape[3]!], { backend: x.backend });
  return sum(windows(padded(one, out, p, 0), out, p.kernel, p.stride, [1, 1]), [4, 5]);
}

/** avgPool2d from primitives: window sums divided by the real cells each covers. */
export function avgPool2dFallback(x: Tensor, p: Pool2dParams, outShape: Shape4): Tensor {
  return tidy(() => {
    const out: [number, number] = [outShape[2], outShape[3]];
    const sums = sum(windows(padded(x, out, p, 0), out, p.kernel, p.stride, [1, 1]), [4, 5]);
    return div(sums, windowCounts(x.shape, out, p, x));
  });
}

/** Gradient of avgPool2d from primitives: dy / count folded into every kernel position. */
export function avgPool2dBackwardFallback(dy: Tensor, xShape: Shape4, p: Pool2dParams): Tensor {
  return tidy(() => {
    const [N, C, H, W] = xShape;
    const out: [number, number] = [dy.shape[2]!, dy.shape[3]!];
    const share = div(dy, windowCounts(xShape, out, p, dy));
    const [ph, pw] = poolPads(xShape, out, p);
    const target = zeros([N, C, H + ph[0] + ph[1], W + pw[0] + pw[1]], { backend: dy.backend });
    for (let i = 0; i < p.kernel[0]; i++) {
      for (let j = 0; j < p.kernel[1]; j++) foldAdd(target, share, i, j, p.stride);
    }
    return contiguous(slice(target, [null, null, { start: ph[0], end: ph[0] + H }, { start: pw[0], end: pw[0] + W }]));
  });
}
