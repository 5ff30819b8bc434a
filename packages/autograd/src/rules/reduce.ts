import * as T from "@tessera/tensor";
import type { GradientRule } from "./types.js";

const { tidy } = T;

/** dy with the reduced axes put back as size-1 dims, broadcast over the input shape. */
function expandBack(dy: T.Tensor, inputShape: readonly number[], axes: readonly number[], keepdims: boolean): T.Tensor {
  const kept = keepdims
    ? dy
    : T.reshape(
        dy,
        inputShape.map((d, i) => (axes.includes(i) ? 1 : d)),
      );
  const e = T.expand(kept, inputShape);
  if (kept !== dy) kept.dispose();
  return e;
}

/** max/min: the gradient goes to the elements equal to the extreme, split evenly among ties. */
const extreme: GradientRule = ({ inputs: [x], output, attrs }, dy) => [
  tidy(() => {
    const axes = attrs.axes as number[];
    const keepdims = attrs.keepdims as boolean;
    const y = expandBack(output, x!.shape, axes, keepdims);
    const mask = T.cast(T.equal(x!, y), "float32");
    const count = T.sum(mask, axes, true);
    return T.div(T.mul(mask, expandBack(dy, x!.shape, axes, keepdims)), count);
  }),
];

/**
 * prod: each element gets the product of the others in its group. Not y / x, which is 0/0 at a
 * zero: a group without zeros takes y / x; with one zero, that element takes the product of the
 * non-zero ones and the rest get 0; with two or more zeros every element gets 0.
 */
const product: GradientRule = ({ inputs: [x], attrs }, dy) => [
  tidy(() => {
    const axes = attrs.axes as number[];
    const keepdims = attrs.keepdims as boolean;
    const isZero = T.equal(x!, 0);
    const safe = T.where(isZero, 1, x!);
    const nonZero = T.prod(safe, axes, true);
    const zeros = T.sum(isZero, axes, true);
    const others = T.where(isZero, T.where(T.equal(zeros, 1), nonZero, 0), T.where(T.equal(zeros, 0), T.div(nonZero, safe), 0));
    return T.mul(others, expandBack(dy, x!.shape, axes, keepdims));
  }),
];

export const reduceRules: Record<string, GradientRule> = {
  sum: ({ inputs: [x], attrs }, dy) => [tidy(() => T.contiguous(expandBack(dy, x!.shape, attrs.axes as number[], attrs.keepdims as boolean)))],
  prod: product,
  max: extreme,
  min: extreme,
};
