import * as T from "@tessera/tensor";
import { RandomState } from "@tessera/tensor";
import { type Rgba, blankImage, blit, greyImage } from "../images/raster.js";

/** The demo's layer: W [2, 3, 9, 9] and b [2], drawn as the chapter draws them. */
export interface ConvOpLayer {
  weight: Float64Array;
  bias: Float64Array;
}

/**
 * The chapter's random layer: rng = RandomState(23455); W ~ U(-1/w_bound, 1/w_bound) of shape
 * (2, 3, 9, 9) with w_bound = sqrt(3 * 9 * 9); then b ~ U(-0.5, 0.5) of shape (2,).
 */
export function convOpLayer(seed = 23455): ConvOpLayer {
  const rng = new RandomState(seed);
  const wBound = Math.sqrt(3 * 9 * 9);
  const weight = rng.uniform(-1 / wBound, 1 / wBound, [2, 3, 9, 9]);
  const bias = rng.uniform(-0.5, 0.5, [2]);
  return { weight, bias };
}

/**
 * sigmoid(conv2d(image, W) + b) of an RGB image scaled as the chapter scales it (byte / 256):
 * two (H-8) x (W-8) maps. Theano's conv2d is a true convolution (the kernel flipped), Tessera's
 * conv2d a cross-correlation, so the kernel is flipped here to give the chapter's maps.
 */
export async function convOpMaps(img: Rgba, layer: ConvOpLayer = convOpLayer()): Promise<{ width: number; height: number; maps: Float32Array[] }> {
  const { width, height } = img;
  if (width < 9 || height < 9) throw new Error(`the image is ${width}x${height}; the 9x9 filters need at least 9x9`);
  const planes = new Float32Array(3 * width * height);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) planes[c * width * height + i] = img.data[i * 4 + c]! / 256;
  const flipped = new Float32Array(layer.weight.length);
  for (let o = 0; o < 2 * 3; o++) for (let k = 0; k < 81; k++) flipped[o * 81 + k] = layer.weight[o * 81 + (80 - k)]!;
  const x = T.tensor(planes, { shape: [1, 3, height, width], dtype: "float32" });
  const w = T.tensor(flipped, { shape: [2, 3, 9, 9], dtype: "float32" });
  const b = T.tensor(Float32Array.from(layer.bias), { shape: [1, 2, 1, 1], dtype: "float32" });
  try {
    const out = T.tidy(() => T.sigmoid(T.add(T.conv2d(x, w), b)));
    try {
      const values = (await out.data()) as Float32Array;
      const oh = height - 8;
      const ow = width - 8;
      return { width: ow, height: oh, maps: [values.slice(0, oh * ow), values.slice(oh * ow, 2 * oh * ow)] };
    } finally {
      out.dispose();
    }
  } finally {
    x.dispose();
    w.dispose();
    b.dispose();
  }
}

/** Pixels between the three panels of the demo picture. */
export const PANEL_GAP = 8;

/**
 * The demo's picture: the original and the two filtered maps side by side (as the chapter's three
 * subplots), each map stretched to the full grey range as pylab.imshow does, and centred in a
 * panel the size of the original. Size: (3 x width + 2 x PANEL_GAP) x height.
 */
export function convOpPicture(img: Rgba, maps: { width: number; height: number; maps: Float32Array[] }): Rgba {
  const out = blankImage(3 * img.width + 2 * PANEL_GAP, img.height, [255, 255, 255]);
  const opaque: Rgba = { ...img, data: img.data.map((v, i) => (i % 4 === 3 ? 255 : v)) };
  blit(out, opaque, 0, 0);
  maps.maps.forEach((m, k) => {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of m) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const span = hi > lo ? hi - lo : 1;
    const grey = greyImage(
      maps.width,
      maps.height,
      Array.from(m, (v) => ((v - lo) / span) * 255),
    );
    blit(out, grey, (k + 1) * (img.width + PANEL_GAP) + (img.width - maps.width) / 2, (img.height - maps.height) / 2);
  });
  return out;
}
