import { describe, expect, it } from "vitest";
import { centreOfMass, inkBounds, type Rgba, resize, toMnistDigit } from "../src/digit-image.js";

/** A w x h picture: `ink(x, y)` pixels in `fg`, the rest in `bg`. */
function picture(w: number, h: number, ink: (x: number, y: number) => boolean, fg: number[], bg: number[], alpha = 255): Rgba {
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([...(ink(x, y) ? fg : bg), alpha], (y * w + x) * 4);
  return { width: w, height: h, data };
}

function asGrey(d: Float32Array) {
  return { width: 28, height: 28, data: d };
}

describe("toMnistDigit", () => {
  it("makes a dark stroke on a light colour background into white-on-black, 20 pixels tall, centred by mass", () => {
    // A vertical bar 12 x 100 in the top-left part of a 200 x 150 picture.
    const img = picture(200, 150, (x, y) => x >= 20 && x < 32 && y >= 10 && y < 110, [30, 30, 90], [240, 230, 180]);
    const d = toMnistDigit(img)!;
    expect(d).toHaveLength(784);
    const b = inkBounds(asGrey(d), 0.5)!;
    expect(b.y1 - b.y0).toBe(20); // the longer side scaled to 20
    expect(b.x1 - b.x0).toBeLessThanOrEqual(3); // aspect kept: 12/100 x 20 = 2.4
    const c = centreOfMass(asGrey(d));
    expect(Math.abs(c.x - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(c.y - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...d)).toBeCloseTo(1, 5);
    expect(d[0]).toBe(0);
  });

  it("keeps a light stroke on a dark background as it is, and handles transparency as white", () => {
    const dark = picture(50, 50, (x, y) => Math.hypot(x - 25, y - 25) < 10 && Math.hypot(x - 25, y - 25) > 6, [250, 250, 250], [0, 0, 0]);
    const a = toMnistDigit(dark)!;
    const transparentInk = picture(50, 50, (x, y) => Math.hypot(x - 25, y - 25) < 10 && Math.hypot(x - 25, y - 25) > 6, [0, 0, 0], [0, 0, 0]);
    for (let i = 0; i < 50 * 50; i++)
      if (
        transparentInk.data[i * 4] === 0 &&
        !(Math.hypot((i % 50) - 25, Math.floor(i / 50) - 25) < 10 && Math.hypot((i % 50) - 25, Math.floor(i / 50) - 25) > 6)
      )
        transparentInk.data[i * 4 + 3] = 0;
    const b = toMnistDigit(transparentInk)!;
    expect(Array.from(b)).toEqual(Array.from(a));
    // A ring: the centre is empty, the ring is 20 pixels across.
    expect(a[14 * 28 + 14]).toBeLessThan(0.1);
    const bounds = inkBounds(asGrey(a), 0.5)!;
    expect(bounds.x1 - bounds.x0).toBeGreaterThanOrEqual(19);
  });

  it("finds no digit in a blank picture", () => {
    expect(toMnistDigit(picture(30, 30, () => false, [0, 0, 0], [255, 255, 255]))).toBeNull();
  });

  it("averages areas when shrinking", () => {
    const r = resize({ width: 4, height: 2, data: Float32Array.from([1, 0, 1, 1, 0, 0, 1, 1]) }, 2, 1);
    expect(Array.from(r.data)).toEqual([0.25, 1]);
  });
});
