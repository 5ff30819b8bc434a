import type { Pool2dParams, Shape4, TypedArray } from "@tessera/tensor";

/** Visits each window: its output index and the clipped input row/column ranges it covers. */
function forEachWindow(xs: Shape4, os: Shape4, p: Pool2dParams, fn: (plane: number, outIndex: number, y0: number, y1: number, x0: number, x1: number) => void): void {
  const [N, C, H, W] = xs;
  const [, , OH, OW] = os;
  for (let plane = 0; plane < N * C; plane++) {
    for (let i = 0; i < OH; i++) {
      const ys = i * p.stride[0] - p.padding[0];
      const y0 = Math.max(ys, 0);
      const y1 = Math.min(ys + p.kernel[0], H);
      for (let j = 0; j < OW; j++) {
        const xst = j * p.stride[1] - p.padding[1];
        fn(plane, (plane * OH + i) * OW + j, y0, y1, Math.max(xst, 0), Math.min(xst + p.kernel[1], W));
      }
    }
  }
}

/** Position of the first maximum (row-major) of a window, or -1 for an empty window. */
function argmaxWindow(x: TypedArray, base: number, W: number, y0: number, y1: number, x0: number, x1: number): number {
  let best = -1;
  let bestV = -Infinity;
  for (let y = y0; y < y1; y++) {
    for (let xx = x0; xx < x1; xx++) {
      const k = base + y * W + xx;
      const v = x[k]!;
      if (best < 0 || v > bestV || (Number.isNaN(v) && !Number.isNaN(bestV))) {
        best = k;
        bestV = v;
      }
    }
  }
  return best;
}

export function maxPool2d(x: TypedArray, xs: Shape4, out: TypedArray, os: Shape4, p: Pool2dParams): void {
  const HW = xs[2] * xs[3];
  forEachWindow(xs, os, p, (plane, o, y0, y1, x0, x1) => {
    const k = argmaxWindow(x, plane * HW, xs[3], y0, y1, x0, x1);
    out[o] = k < 0 ? -Infinity : x[k]!;
  });
}

export function maxPool2dBackward(x: TypedArray, xs: Shape4, dy: TypedArray, ds: Shape4, out: TypedArray, p: Pool2dParams): void {
  const HW = xs[2] * xs[3];
  out.fill(0);
  forEachWindow(xs, ds, p, (plane, o, y0, y1, x0, x1) => {
    const k = argmaxWindow(x, plane * HW, xs[3], y0, y1, x0, x1);
    if (k >= 0) out[k]! += dy[o]!;
  });
}

export function avgPool2d(x: TypedArray, xs: Shape4, out: TypedArray, os: Shape4, p: Pool2dParams): void {
  const [, , H, W] = xs;
  forEachWindow(xs, os, p, (plane, o, y0, y1, x0, x1) => {
    let acc = 0;
    for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) acc += x[plane * H * W + y * W + xx]!;
    out[o] = acc / ((y1 - y0) * (x1 - x0));
  });
}

export function avgPool2dBackward(dy: TypedArray, ds: Shape4, out: TypedArray, xs: Shape4, p: Pool2dParams): void {
  const [, , H, W] = xs;
  const acc = new Float64Array(out.length);
  forEachWindow(xs, ds, p, (plane, o, y0, y1, x0, x1) => {
    const share = dy[o]! / ((y1 - y0) * (x1 - x0));
    for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) acc[plane * H * W + y * W + xx]! += share;
  });
  out.set(acc);
}

/** Index-select along the middle axis of [outer, n, inner]. */
export function gather(x: TypedArray, outer: number, n: number, inner: number, idx: TypedArray, m: number, out: TypedArray): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      const src = (o * n + idx[i]!) * inner;
      out.set(x.subarray(src, src + inner), (o * m + i) * inner);
    }
  }
}
