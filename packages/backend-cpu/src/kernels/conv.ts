import type { Conv2dParams, Shape4, TypedArray } from "@tessera/tensor";

/** Direct cross-correlation, NCHW, with groups, stride, padding and dilation. */
export function conv2d(x: TypedArray, xs: Shape4, w: TypedArray, ws: Shape4, out: TypedArray, os: Shape4, p: Conv2dParams): void {
  const [N, C, H, W] = xs;
  const [O, Cg, KH, KW] = ws;
  const [, , OH, OW] = os;
  const Og = O / p.groups;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const acc = new Float64Array(OH * OW);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      acc.fill(0);
      const g = Math.floor(o / Og);
      for (let c = 0; c < Cg; c++) {
        const xBase = (n * C + g * Cg + c) * H * W;
        const wBase = (o * Cg + c) * KH * KW;
        for (let ki = 0; ki < KH; ki++) {
          for (let kj = 0; kj < KW; kj++) {
            const wv = w[wBase + ki * KW + kj]!;
            for (let i = 0; i < OH; i++) {
              const y = i * sh - ph + ki * dh;
              if (y < 0 || y >= H) continue;
              const row = xBase + y * W;
              const accRow = i * OW;
              for (let j = 0; j < OW; j++) {
                const xx = j * sw - pw + kj * dw;
                if (xx >= 0 && xx < W) acc[accRow + j]! += wv * x[row + xx]!;
              }
            }
          }
        }
      }
      out.set(acc, (n * O + o) * OH * OW);
    }
  }
}

/** dX: scatters dy through the weights (the transpose of conv2d). */
export function conv2dBackwardInput(dy: TypedArray, ds: Shape4, w: TypedArray, ws: Shape4, out: TypedArray, xs: Shape4, p: Conv2dParams): void {
  const [N, C, H, W] = xs;
  const [O, Cg, KH, KW] = ws;
  const [, , OH, OW] = ds;
  const Og = O / p.groups;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const acc = new Float64Array(N * C * H * W);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      const dyBase = (n * O + o) * OH * OW;
      for (let c = 0; c < Cg; c++) {
        const xBase = (n * C + g * Cg + c) * H * W;
        const wBase = (o * Cg + c) * KH * KW;
        for (let ki = 0; ki < KH; ki++) {
          for (let kj = 0; kj < KW; kj++) {
            const wv = w[wBase + ki * KW + kj]!;
            for (let i = 0; i < OH; i++) {
              const y = i * sh - ph + ki * dh;
              if (y < 0 || y >= H) continue;
              for (let j = 0; j < OW; j++) {
                const xx = j * sw - pw + kj * dw;
                if (xx >= 0 && xx < W) acc[xBase + y * W + xx]! += wv * dy[dyBase + i * OW + j]!;
              }
            }
          }
        }
      }
    }
  }
  out.set(acc);
}

/** dW: correlates the input with dy. */
export function conv2dBackwardWeight(x: TypedArray, xs: Shape4, dy: TypedArray, ds: Shape4, out: TypedArray, ws: Shape4, p: Conv2dParams): void {
  const [N, C, H, W] = xs;
  const [O, Cg, KH, KW] = ws;
  const [, , OH, OW] = ds;
  const Og = O / p.groups;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  for (let o = 0; o < O; o++) {
    const g = Math.floor(o / Og);
    for (let c = 0; c < Cg; c++) {
      for (let ki = 0; ki < KH; ki++) {
        for (let kj = 0; kj < KW; kj++) {
          let acc = 0;
          for (let n = 0; n < N; n++) {
            const xBase = (n * C + g * Cg + c) * H * W;
            const dyBase = (n * O + o) * OH * OW;
            for (let i = 0; i < OH; i++) {
              const y = i * sh - ph + ki * dh;
              if (y < 0 || y >= H) continue;
              for (let j = 0; j < OW; j++) {
                const xx = j * sw - pw + kj * dw;
                if (xx >= 0 && xx < W) acc += x[xBase + y * W + xx]! * dy[dyBase + i * OW + j]!;
              }
            }
          }
          out[((o * Cg + c) * KH + ki) * KW + kj] = acc;
        }
      }
    }
  }
}
