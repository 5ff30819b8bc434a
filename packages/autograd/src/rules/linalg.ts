import * as T from "@tessera/tensor";
import type { Conv2dParams, Pool2dOptions, Pool2dParams } from "@tessera/tensor";
import { unbroadcast } from "./broadcast.js";
import type { GradientRule } from "./types.js";

const { tidy } = T;

function poolOptions(p: Pool2dParams): Pool2dOptions {
  return { kernelSize: p.kernel, stride: p.stride, padding: p.padding, ceilMode: p.ceilMode };
}

export const linalgRules: Record<string, GradientRule> = {
  // NumPy matmul: 1-D operands were promoted to matrices; batch dims may have broadcast.
  matmul: ({ inputs: [a, b] }, dy) =>
    tidy(() => {
      const a2 = a!.rank === 1 ? T.reshape(a!, [1, a!.shape[0]!]) : a!;
      const b2 = b!.rank === 1 ? T.reshape(b!, [b!.shape[0]!, 1]) : b!;
      let g = dy;
      if (a!.rank === 1) g = T.unsqueeze(g, g.rank - (b!.rank === 1 ? 0 : 1));
      if (b!.rank === 1) g = T.unsqueeze(g, -1);
      const ga = unbroadcast(T.matmul(g, T.transpose(b2)), a2.shape);
      const gb = unbroadcast(T.matmul(T.transpose(a2), g), b2.shape);
      return [T.reshape(ga, a!.shape), T.reshape(gb, b!.shape)];
    }),
  conv2d: ({ inputs: [x, w], attrs }, dy) => {
    const p = attrs.params as Conv2dParams;
    return [T.conv2dBackwardInput(dy, w!, x!.shape, p), T.conv2dBackwardWeight(x!, dy, w!.shape, p)];
  },
  maxPool2d: ({ inputs: [x], attrs }, dy) => [T.maxPool2dBackward(x!, dy, poolOptions(attrs.params as Pool2dParams))],
  avgPool2d: ({ inputs: [x], attrs }, dy) => [T.avgPool2dBackward(dy, x!.shape, poolOptions(attrs.params as Pool2dParams))],
  softmax: ({ output, attrs }, dy) => [
    tidy(() => {
      const axis = attrs.axis as number;
      return T.mul(output, T.sub(dy, T.sum(T.mul(dy, output), axis, true)));
    }),
  ],
  logSoftmax: ({ output, attrs }, dy) => [
    tidy(() => {
      const axis = attrs.axis as number;
      return T.sub(dy, T.mul(T.exp(output), T.sum(dy, axis, true)));
    }),
  ],
  // Index-select's gradient scatters-adds rows back: a one-hot [n, m] matrix times dy.
  gather: ({ inputs: [x, indices], attrs }, dy) => [
    tidy(() => {
      const axis = attrs.axis as number;
      const n = x!.shape[axis]!;
      const outer = x!.shape.slice(0, axis).reduce((s, d) => s * d, 1);
      const inner = x!.shape.slice(axis + 1).reduce((s, d) => s * d, 1);
      const scatter = T.transpose(T.oneHot(indices!, n));
      const g3 = T.reshape(dy, [outer, indices!.size, inner]);
      return T.reshape(T.matmul(scatter, g3), x!.shape);
    }),
    null,
  ],
};
