import type { Conv2dParams, Shape4 } from "../backend/contract.js";
import { tidy } from "../memory/scope.js";
import type { Tensor } from "../tensor.js";
import { zeros } from "../ops/creation.js";
import { contiguous } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { concat, pad } from "../ops/shaping.js";
import { permute, reshape, slice, transpose } from "../ops/views.js";
import { foldAdd, windows } from "./unfold.js";

/** im2col: the input patches of one group as a matrix [N*OH*OW, Cg*KH*KW]. */
function columns(x: Tensor, g: number, Cg: number, w: Shape4, outHW: readonly [number, number], p: Conv2dParams): Tensor {
  const xg = slice(x, [null, { start: g * Cg, end: (g + 1) * Cg }]);
  const xp = pad(xg, [
    [0, 0],
    [0, 0],
    [p.padding[0], p.padding[0]],
    [p.padding[1], p.padding[1]],
  ]);
  const win = windows(xp, outHW, [w[2], w[3]], p.stride, p.dilation);
  const nhwc = permute(win, [0, 2, 3, 1, 4, 5]);
  return reshape(nhwc, [x.shape[0]! * outHW[0] * outHW[1], Cg * w[2] * w[3]]);
}

function groupWeight(w: Tensor, g: number, Og: number): Tensor {
  const wg = slice(w, [{ start: g * Og, end: (g + 1) * Og }]);
  return reshape(wg, [Og, -1]);
}

/** conv2d from primitives: im2col + matmul per group. */
export function conv2dFallback(x: Tensor, w: Tensor, p: Conv2dParams, outShape: Shape4): Tensor {
  return tidy(() => {
    const [N, O, OH, OW] = outShape;
    const ws = w.shape as Shape4;
    const Cg = ws[1];
    const Og = O / p.groups;
    const parts: Tensor[] = [];
    for (let g = 0; g < p.groups; g++) {
      const cols = columns(x, g, Cg, ws, [OH, OW], p);
      parts.push(matmul(cols, transpose(groupWeight(w, g, Og))));
    }
    const y = parts.length === 1 ? parts[0]! : concat(parts, 1);
    return contiguous(permute(reshape(y, [N, OH, OW, O]), [0, 3, 1, 2]));
  });
}

/** Gradient of conv2d with respect to the weight: dy^T @ im2col(x) per group. */
export function conv2dBackwardWeightFallback(x: Tensor, dy: Tensor, wShape: Shape4, p: Conv2dParams): Tensor {
  return tidy(() => {
    const [, O, OH, OW] = dy.shape as Shape4;
    const Og = O / p.groups;
    const Cg = wShape[1];
    const parts: Tensor[] = [];
    for (let g = 0; g < p.groups; g++) {
      const cols = columns(x, g, Cg, wShape, [OH, OW], p);
      const dyg = slice(dy, [null, { start: g * Og, end: (g + 1) * Og }]);
      const dyMat = reshape(permute(dyg, [1, 0, 2, 3]), [Og, -1]);
      parts.push(reshape(matmul(dyMat, cols), [Og, Cg, wShape[2], wShape[3]]));
    }
    return parts.length === 1 ? contiguous(parts[0]!) : concat(parts, 0);
  });
}

/** Gradient of conv2d with respect to the input: dy @ W per group, folded back (col2im). */
export function conv2dBackwardInputFallback(dy: Tensor, w: Tensor, xShape: Shape4, p: Conv2dParams): Tensor {
  return tidy(() => {
    const [N, , H, W] = xShape;
    const [, O, OH, OW] = dy.shape as Shape4;
    const ws = w.shape as Shape4;
    const [, Cg, KH, KW] = ws;
    const Og = O / p.groups;
    const HP = H + 2 * p.padding[0];
    const WP = W + 2 * p.padding[1];
    const parts: Tensor[] = [];
    for (let g = 0; g < p.groups; g++) {
      const dyg = slice(dy, [null, { start: g * Og, end: (g + 1) * Og }]);
      const dyMat = reshape(permute(dyg, [0, 2, 3, 1]), [N * OH * OW, Og]);
      const dcols = reshape(matmul(dyMat, groupWeight(w, g, Og)), [N, OH, OW, Cg, KH, KW]);
      const target = zeros([N, Cg, HP, WP], { backend: dy.backend });
      for (let i = 0; i < KH; i++) {
        for (let j = 0; j < KW; j++) {
          const c = permute(slice(dcols, [null, null, null, null, { start: i, end: i + 1 }, { start: j, end: j + 1 }]), [0, 3, 1, 2, 4, 5]);
          foldAdd(target, reshape(c, [N, Cg, OH, OW]), i * p.dilation[0], j * p.dilation[1], p.stride);
        }
      }
      parts.push(slice(target, [null, null, { start: p.padding[0], end: p.padding[0] + H }, { start: p.padding[1], end: p.padding[1] + W }]));
    }
    return parts.length === 1 ? contiguous(parts[0]!) : concat(parts, 1);
  });
}
