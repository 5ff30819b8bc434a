/**
 * Pictures of digits made into MNIST inputs the way MNIST's were made (grey, white ink on black,
 * the longer side 20 pixels, centred by mass in 28x28): for a digit drawn on a canvas or read
 * from an image file. No Node built-ins.
 */

/** An 8-bit RGBA image, row-major (a canvas's `ImageData` fits). */
export interface Rgba {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Four bytes per pixel (red, green, blue, alpha), row by row. */
  data: Uint8Array | Uint8ClampedArray;
}

/** A single-channel image with values in [0, 1]. */
export interface GreyImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** One value in [0, 1] per pixel, row by row. */
  data: Float32Array;
}

/** Luma (ITU-R 601) of each pixel in [0, 1], composited over white where the image is transparent. */
export function toGrey(img: Rgba): GreyImage {
  const n = img.width * img.height;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = img.data[i * 4]!;
    const g = img.data[i * 4 + 1]!;
    const b = img.data[i * 4 + 2]!;
    const a = img.data[i * 4 + 3]! / 255;
    const luma = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    data[i] = a * luma + (1 - a);
  }
  return { width: img.width, height: img.height, data };
}

function borderValues(img: GreyImage): number[] {
  const { width: w, height: h, data } = img;
  const out: number[] = [];
  for (let x = 0; x < w; x++) out.push(data[x]!, data[(h - 1) * w + x]!);
  for (let y = 1; y < h - 1; y++) out.push(data[y * w]!, data[y * w + w - 1]!);
  return out;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/**
 * Ink in [0, 1] (1 = the darkest stroke): inverted when the background (the image's border) is
 * light, then stretched so that the background is 0 and the strongest stroke 1.
 */
export function inkOf(grey: GreyImage): GreyImage {
  const border = borderValues(grey);
  const light = border.reduce((a, b) => a + b, 0) / border.length > 0.5;
  const ink = grey.data.map((v) => (light ? 1 - v : v));
  const background = median(borderValues({ ...grey, data: ink }));
  let max = 0;
  for (const v of ink) max = Math.max(max, v);
  const span = max - background;
  if (span < 0.05) return { ...grey, data: new Float32Array(ink.length) };
  return { ...grey, data: ink.map((v) => Math.max(0, Math.min(1, (v - background) / span))) };
}

/** The smallest box holding every pixel above `threshold`, or null when there is none. */
export function inkBounds(img: GreyImage, threshold = 0.1): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = img.width;
  let y0 = img.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (img.data[y * img.width + x]! > threshold) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/** The part [x0, x1) x [y0, y1) of an image. */
export function crop(img: GreyImage, box: { x0: number; y0: number; x1: number; y1: number }): GreyImage {
  const width = box.x1 - box.x0;
  const height = box.y1 - box.y0;
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) data.set(img.data.subarray((box.y0 + y) * img.width + box.x0, (box.y0 + y) * img.width + box.x1), y * width);
  return { width, height, data };
}

/** Resamples one axis by area averaging: each output cell is the mean of the input it covers (anti-aliased, like MNIST's). */
function resampleAxis(src: Float32Array, n: number, m: number, stride: number, lines: number, lineStride: number): Float32Array {
  const out = new Float32Array(lines * m);
  const scale = n / m;
  for (let l = 0; l < lines; l++) {
    for (let j = 0; j < m; j++) {
      const a = j * scale;
      const b = (j + 1) * scale;
      let sum = 0;
      for (let i = Math.floor(a); i < Math.min(n, Math.ceil(b)); i++) {
        const cover = Math.min(b, i + 1) - Math.max(a, i);
        if (cover > 0) sum += cover * src[l * lineStride + i * stride]!;
      }
      out[l * m + j] = sum / scale;
    }
  }
  return out;
}

/** The image resized to width x height by area averaging. */
export function resize(img: GreyImage, width: number, height: number): GreyImage {
  // Rows first (each row of img.width -> width), then columns.
  const rows = resampleAxis(img.data, img.width, width, 1, img.height, img.width);
  const cols = resampleAxis(rows, img.height, height, width, width, 1);
  // `cols` is column-major (one line per output column): transpose back.
  const data = new Float32Array(width * height);
  for (let x = 0; x < width; x++) for (let y = 0; y < height; y++) data[y * width + x] = cols[x * height + y]!;
  return { width, height, data };
}

/** Centre of mass (pixel centres at +0.5) of an image's values. */
export function centreOfMass(img: GreyImage): { x: number; y: number } {
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const v = img.data[y * img.width + x]!;
      sum += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  return sum > 0 ? { x: sx / sum, y: sy / sum } : { x: img.width / 2, y: img.height / 2 };
}

/**
 * A picture of a digit made into an MNIST input the way MNIST was made: grey, white ink on black,
 * cropped to the ink, the longer side scaled to 20 pixels keeping the aspect ratio (anti-aliased),
 * and pasted into 28x28 so that the centre of mass lands at the centre. Returns 784 values in
 * [0, 1], or null when the picture holds no ink.
 */
export function toMnistDigit(img: Rgba, box = 20, size = 28): Float32Array | null {
  const ink = inkOf(toGrey(img));
  const bounds = inkBounds(ink);
  if (!bounds) return null;
  const digit = crop(ink, bounds);
  const scale = box / Math.max(digit.width, digit.height);
  const w = Math.max(1, Math.round(digit.width * scale));
  const h = Math.max(1, Math.round(digit.height * scale));
  const small = resize(digit, w, h);
  const com = centreOfMass(small);
  const clamp = (v: number, max: number) => Math.max(0, Math.min(max, v));
  const ox = clamp(Math.round(size / 2 - com.x), size - w);
  const oy = clamp(Math.round(size / 2 - com.y), size - h);
  const out = new Float32Array(size * size);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(oy + y) * size + ox + x] = small.data[y * w + x]!;
  return out;
}
