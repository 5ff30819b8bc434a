import type { Pool2dParams, Shape4, TypedArray } from "@tessera/tensor";

/** Visits each window: its output index and the clipped input row/column ranges it covers. */
function forEachWindow(
  xs: Shape4,
  os: Shape4,
  p: Pool2dParams,
  fn: (plane: number, outIndex: number, y0: number, y1: number, x0: number, x1: number) => void,
): void {
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

/**
 * Finds the first maximum (row-major; NaN wins, padding never does) of each window, in output
 * order, and either writes it to `out` (forward) or, without `out`, adds `dy` at its
 * position in `dx` (gradient). forEachWindow's loops written out, with no call per window or element, because
 * max pooling and its gradient run over every conv output of a training step; the
 * comparisons are the reference's, so the results are too.
 */
function maxPoolScan(x: TypedArray, xs: Shape4, os: Shape4, p: Pool2dParams, out: TypedArray | undefined, dy?: TypedArray, dx?: TypedArray): void {
  const [N, C, H, W] = xs;
  const [, , OH, OW] = os;
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  for (let plane = 0, o = 0; plane < N * C; plane++) {
    const base = plane * H * W;
    for (let i = 0; i < OH; i++) {
      const ys = i * sh - ph;
      const y0 = Math.max(ys, 0);
      const y1 = Math.min(ys + kh, H);
      for (let j = 0; j < OW; j++, o++) {
        const xst = j * sw - pw;
        const x0 = Math.max(xst, 0);
        const x1 = Math.min(xst + kw, W);
        let best = -1;
        let bestV = -Infinity;
        for (let y = y0; y < y1; y++) {
          for (let k = base + y * W + x0, end = base + y * W + x1; k < end; k++) {
            const v = x[k]!;
            if (best < 0 || v > bestV || (Number.isNaN(v) && !Number.isNaN(bestV))) {
              best = k;
              bestV = v;
            }
          }
        }
        if (out) out[o] = best < 0 ? -Infinity : bestV;
        else if (best >= 0) dx![best]! += dy![o]!;
      }
    }
  }
}

export function maxPool2d(x: TypedArray, xs: Shape4, out: TypedArray, os: Shape4, p: Pool2dParams): void {
  maxPoolScan(x, xs, os, p, out);
}

export function maxPool2dBackward(x: TypedArray, xs: Shape4, dy: TypedArray, ds: Shape4, out: TypedArray, p: Pool2dParams): void {
  out.fill(0);
  maxPoolScan(x, xs, ds, p, undefined, dy, out);
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
