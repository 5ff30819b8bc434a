/**
 * The first convolution's filters [O, 1, k, k] as an image: a grid of tiles, each filter
 * scaled to its own range (black = most negative, white = most positive), as lenet-cli's
 * filters.png shows them.
 */
export function drawFilters(canvas: HTMLCanvasElement, weights: Float32Array, shape: readonly number[]): void {
  const [count, channels, kh, kw] = shape as [number, number, number, number];
  const cols = Math.ceil(Math.sqrt(count * 1.25));
  const rows = Math.ceil(count / cols);
  const gap = 1;
  const image = new ImageData(cols * (kw + gap) + gap, rows * (kh + gap) + gap);
  image.data.fill(255);
  const size = channels * kh * kw;
  for (let f = 0; f < count; f++) {
    const w = weights.subarray(f * size, f * size + kh * kw);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of w) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const span = hi - lo || 1;
    const ox = gap + (f % cols) * (kw + gap);
    const oy = gap + Math.floor(f / cols) * (kh + gap);
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        const grey = Math.round((255 * (w[y * kw + x]! - lo)) / span);
        const o = 4 * ((oy + y) * image.width + ox + x);
        image.data.set([grey, grey, grey, 255], o);
      }
    }
  }
  // draw at the pixel size, then scale up without smoothing
  const tile = document.createElement("canvas");
  tile.width = image.width;
  tile.height = image.height;
  tile.getContext("2d")!.putImageData(image, 0, 0);
  const ctx = canvas.getContext("2d")!;
  const scale = Math.floor(Math.min(canvas.width / image.width, canvas.height / image.height));
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(tile, 0, 0, image.width * scale, image.height * scale);
}
