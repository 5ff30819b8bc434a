import * as T from "@tessera/tensor";
import type { Conv2dParams, Pool2dOptions, Pool2dParams, Tensor } from "@tessera/tensor";
import { unbroadcast } from "./broadcast.js";
import type { GradientRule } from "./types.js";

const { tidy } = T;

function poolOptions(p: Pool2dParams): Pool2dOptions {
  return { kernelSize: p.kernel, stride: p.stride, padding: p.padding, ceilMode: p.ceilMode };
}

export const linalgRules: Record<string, GradientRule> = {
  // NumPy matmul: 1-D operands were promoted to matrices; batch dims may have broadcast.
  matmul: ({ inputs: [a, b], needsGrad: [needA, needB] }, dy) =>
    tidy(() => {
      const a2 = a!.rank === 1 ? T.reshape(a!, [1, a!.shape[0]!]) : a!;
      const b2 = b!.rank === 1 ? T.reshape(b!, [b!.shape[0]!, 1]) : b!;
      let g = dy;
      if (a!.rank === 1) g = T.unsqueeze(g, g.rank - (b!.rank === 1 ? 0 : 1));
      if (b!.rank === 1) g = T.unsqueeze(g, -1);
      const plain = a2.rank === 2 && b2.rank === 2;
      // A gradient takes its input's layout: for a transposed matrix (a Linear layer's
      // weight used as Wᵀ) it is computed transposed, so the weight's own gradient comes out
      // contiguous and the optimizer's elementwise updates run over plain rows.
      const ga = !needA
        ? null
        : plain && isTransposedMatrix(a2)
          ? T.transpose(T.matmul(b2, T.transpose(g)))
          : T.reshape(unbroadcast(T.matmul(g, T.transpose(b2)), a2.shape), a!.shape);
      const gb = !needB
        ? null
        : plain && isTransposedMatrix(b2)
          ? T.transpose(T.matmul(T.transpose(g), a2))
          : T.reshape(unbroadcast(T.matmul(T.transpose(a2), g), b2.shape), b!.shape);
      return [ga, gb];
    }),
  conv2d: ({ inputs: [x, w], attrs, needsGrad: [needX, needW] }, dy) => {
    const p = attrs.params as Conv2dParams;
    return [needX ? T.conv2dBackwardInput(dy, w!, x!.shape, p) : null, needW ? T.conv2dBackwardWeight(x!, dy, w!.shape, p) : null];
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

/** A 2-D matrix stored column-major: the transpose of a contiguous one. */
function isTransposedMatrix(t: Tensor): boolean {
  return t.rank === 2 && t.shape[0]! > 1 && t.shape[1]! > 1 && t.strides[0] === 1 && t.strides[1] === t.shape[0];
}
