import * as T from "@tessera/tensor";
import { unbroadcast } from "./broadcast.js";
import type { GradientRule } from "./types.js";

const { tidy } = T;

/**
 * Scatters a slice's gradient back into a zero tensor of the input's shape: per axis, spread
 * the rows `step` apart (pad after each) and pad up to the input length.
 */
function sliceBackward(dy: T.Tensor, inputShape: readonly number[], starts: readonly number[], steps: readonly number[]): T.Tensor {
  return tidy(() => {
    let g = dy;
    for (let a = 0; a < inputShape.length; a++) {
      const n = inputShape[a]!;
      const m = g.shape[a]!;
      const step = steps[a]!;
      // on dy's backend, which need not be the active one
      if (m === 0) return T.zeros(inputShape, { dtype: dy.dtype, backend: dy.backend });
      if (step > 1) {
        const shape = [...g.shape];
        shape.splice(a + 1, 0, 1);
        const pads = shape.map(() => [0, 0] as [number, number]);
        pads[a + 1] = [0, step - 1];
        const spread = T.pad(T.reshape(g, shape), pads);
        const merged = [...g.shape];
        merged[a] = m * step;
        g = T.reshape(spread, merged);
        const keep = Math.min(m * step, n - starts[a]!);
        g = T.slice(g, [...g.shape.slice(0, a).map(() => null), { end: keep }]);
      }
      const pads = g.shape.map(() => [0, 0] as [number, number]);
      pads[a] = [starts[a]!, n - starts[a]! - g.shape[a]!];
      if (pads[a]![0] > 0 || pads[a]![1] > 0) g = T.pad(g, pads);
    }
    return g === dy ? T.contiguous(dy) : g;
  });
}

export const viewRules: Record<string, GradientRule> = {
  reshape: ({ inputs: [x] }, dy) => [T.reshape(dy, x!.shape)],
  permute: ({ attrs }, dy) => {
    const axes = attrs.axes as number[];
    const inverse = new Array<number>(axes.length);
    axes.forEach((a, i) => {
      inverse[a] = i;
    });
    return [T.permute(dy, inverse)];
  },
  expand: ({ inputs: [x] }, dy) => [unbroadcast(dy, x!.shape)],
  slice: ({ inputs: [x], attrs }, dy) => [sliceBackward(dy, x!.shape, attrs.starts as number[], attrs.steps as number[])],
  pad: ({ inputs: [x], attrs }, dy) => {
    const pads = attrs.pads as Array<[number, number]>;
    return [
      T.contiguous(
        T.slice(
          dy,
          pads.map(([before], i) => ({ start: before, end: before + x!.shape[i]! })),
        ),
      ),
    ];
  },
  concat: ({ attrs, inputs }, dy) => {
    const axis = attrs.axis as number;
    let start = 0;
    return inputs.map((x) => {
      const n = x.shape[axis]!;
      const part = T.slice(dy, [...x.shape.slice(0, axis).map(() => null), { start, end: start + n }]);
      start += n;
      return part;
    });
  },
  cast: ({ attrs }, dy) => {
    if (attrs.from !== "float32") return [null];
    return [T.contiguous(dy)];
  },
};
