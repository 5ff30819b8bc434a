import type { HeavyKernels } from "@tessera/tensor";
import { dataOf } from "../buffer.js";
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from "../kernels/conv.js";
import { matmul } from "../kernels/matmul.js";
import { avgPool2d, avgPool2dBackward, gather, maxPool2d, maxPool2dBackward } from "../kernels/pool.js";

/** The reference heavy kernels: plain TypeScript on the buffers' typed arrays. */
export const referenceKernels: HeavyKernels = {
  matmul: (a, b, out) => matmul(a, b, dataOf(out)),
  conv2d: (x, xs, w, ws, out, os, p) => conv2d(dataOf(x), xs, dataOf(w), ws, dataOf(out), os, p),
  conv2dBackwardInput: (dy, ds, w, ws, out, xs, p) => conv2dBackwardInput(dataOf(dy), ds, dataOf(w), ws, dataOf(out), xs, p),
  conv2dBackwardWeight: (x, xs, dy, ds, out, ws, p) => conv2dBackwardWeight(dataOf(x), xs, dataOf(dy), ds, dataOf(out), ws, p),
  maxPool2d: (x, xs, out, os, p) => maxPool2d(dataOf(x), xs, dataOf(out), os, p),
  maxPool2dBackward: (x, xs, dy, ds, out, p) => maxPool2dBackward(dataOf(x), xs, dataOf(dy), ds, dataOf(out), p),
  avgPool2d: (x, xs, out, os, p) => avgPool2d(dataOf(x), xs, dataOf(out), os, p),
  avgPool2dBackward: (dy, ds, out, xs, p) => avgPool2dBackward(dataOf(dy), ds, dataOf(out), xs, p),
  gather: (x, outer, n, inner, idx, m, out) => gather(dataOf(x), outer, n, inner, dataOf(idx), m, dataOf(out)),
};
