import type { Tensor } from "@tessera/tensor";
import { type Rgba, blankImage, blit, greyImage } from "../images/raster.js";

/** Layout of the filter grid. */
export interface FilterGridOptions {
  /** Filters per row (5). */
  columns?: number;
  /** Screen pixels per filter weight (10). */
  scale?: number;
  /** Pixels between filters (4). */
  gap?: number;
}

/**
 * The filters of a conv weight [O, 1, K, K] as one image: a grid of O tiles, each weight a
 * scale x scale square, mid-grey for 0, lighter for positive and darker for negative weights
 * (each filter scaled by its own largest magnitude).
 */
export function filterGrid(weights: Float32Array, shape: readonly number[], options: FilterGridOptions = {}): Rgba {
  const [count, channels, kh, kw] = shape as [number, number, number, number];
  const columns = Math.min(options.columns ?? 5, count);
  const scale = options.scale ?? 10;
  const gap = options.gap ?? 4;
  const rows = Math.ceil(count / columns);
  const tileW = kw * scale;
  const tileH = kh * scale;
  const img = blankImage(columns * tileW + (columns + 1) * gap, rows * tileH + (rows + 1) * gap, [255, 255, 255]);
  const per = channels * kh * kw;
  for (let f = 0; f < count; f++) {
    // First input channel only: LeNet's first layer sees one (grey) channel.
    const w = weights.subarray(f * per, f * per + kh * kw);
    let maxAbs = 0;
    for (const v of w) maxAbs = Math.max(maxAbs, Math.abs(v));
    const values = new Float32Array(tileW * tileH);
    for (let y = 0; y < tileH; y++) {
      for (let x = 0; x < tileW; x++) {
        const v = w[Math.floor(y / scale) * kw + Math.floor(x / scale)]!;
        values[y * tileW + x] = 127.5 + (maxAbs > 0 ? (127.5 * v) / maxAbs : 0);
      }
    }
    const col = f % columns;
    const row = Math.floor(f / columns);
    blit(img, greyImage(tileW, tileH, values), gap + col * (tileW + gap), gap + row * (tileH + gap));
  }
  return img;
}

/** The grid of a conv layer's weight tensor. */
export async function filterGridOf(weight: Tensor, options: FilterGridOptions = {}): Promise<Rgba> {
  return filterGrid((await weight.data()) as Float32Array, weight.shape, options);
}
