import { type Tensor, viewTensor } from "../tensor.js";
import { add } from "../ops/elementwise.js";

/**
 * The sliding windows of a padded NCHW tensor as a zero-copy view [N, C, OH, OW, KH, KW]:
 * window (i, j) starts at row i*stride, column j*stride, and its cells are `dilation` apart.
 */
export function windows(
  xp: Tensor,
  out: readonly [number, number],
  kernel: readonly [number, number],
  stride: readonly [number, number],
  dilation: readonly [number, number],
): Tensor {
  const [sN, sC, sH, sW] = xp.strides as [number, number, number, number];
  return viewTensor(
    xp,
    [xp.shape[0]!, xp.shape[1]!, out[0], out[1], kernel[0], kernel[1]],
    [sN, sC, sH * stride[0], sW * stride[1], sH * dilation[0], sW * dilation[1]],
    xp.offset,
  );
}

/**
 * Adds `contrib` [N,C,OH,OW] into the cells of the contiguous `target` [N,C,HP,WP] that window
 * offset (di, dj) touches, in place (the inverse of one kernel position of `windows`). Cells of
 * one kernel position never overlap, so a read-add-write is exact.
 */
export function foldAdd(target: Tensor, contrib: Tensor, di: number, dj: number, stride: readonly [number, number]): void {
  const [sN, sC, sH, sW] = target.strides as [number, number, number, number];
  const shape = contrib.shape;
  const region = viewTensor(target, shape, [sN, sC, sH * stride[0], sW * stride[1]], di * sH + dj * sW);
  const sum = add(region, contrib);
  target.backend.copy(sum.view(), region.view());
  sum.dispose();
  region.dispose();
}
