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

export const reduceRules: Record<string, GradientRule> = {
  sum: ({ inputs: [x], attrs }, dy) => [tidy(() => T.contiguous(expandBack(dy, x!.shape, attrs.axes as number[], attrs.keepdims as boolean)))],
  max: extreme,
  min: extreme,
};
