/**
 * `predict` decodes untrusted PNG and JPEG files: mutated real images (truncated, with flipped
 * bytes, with forged dimensions whose checksums still hold) must give a CliError or an image
 * exactly as large as its header says, never another error, a hang, or an allocation far
 * beyond the file. Every mutation comes from a fixed seed.
 */
import { readFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { RandomState } from "@tessera/tensor";
import jpeg from "jpeg-js";
import { describe, expect, it } from "vitest";
import { CliError } from "../src/cli/errors.js";
import { MAX_IMAGE_PIXELS } from "../src/images/declared-size.js";
import { decodeImage } from "../src/images/raster.js";

const png = new Uint8Array(readFileSync(new URL("../assets/rgb-pattern.png", import.meta.url)));
const pixels = decodeImage(png, "rgb-pattern.png");
/** The same picture through a real JPEG encoder. */
const jpg = new Uint8Array(jpeg.encode({ width: pixels.width, height: pixels.height, data: pixels.data }, 85).data);

/** `file` with the big-endian u32 at `at` set to `value`, the PNG chunk CRC after [from, to) recomputed. */
function forgePng(file: Uint8Array, at: number, value: number): Uint8Array {
  const b = new Uint8Array(file);
  new DataView(b.buffer).setUint32(at, value);
  new DataView(b.buffer).setUint32(29, crc32(b.subarray(12, 29))); // IHDR: type + 13 data bytes
  return b;
}

/** The offset of the JPEG start-of-frame segment's marker. */
function sofOffset(file: Uint8Array): number {
  for (let at = 2; at + 1 < file.length; at++) if (file[at] === 0xff && file[at + 1]! >= 0xc0 && file[at + 1]! <= 0xc2) return at;
  throw new Error("no SOF marker");
}

function mutations(file: Uint8Array, format: "PNG" | "JPEG", rng: RandomState, count: number): Array<[string, Uint8Array]> {
  const int = (n: number) => Math.floor(rng.randomSample() * n);
  const out: Array<[string, Uint8Array]> = [];
  for (const at of [4, 8, 20, 26, 33, 40, file.length >> 1, file.length - 12, file.length - 1]) out.push([`truncated at ${at}`, file.slice(0, at)]);
  if (format === "PNG") {
    for (const [w, h] of [
      [0x7fffffff, 1],
      [65535, 65535],
      [4097, 4096],
      [4096, 4096],
      [1, 0],
      [3000, 3000],
    ]) {
      out.push([`IHDR ${w}x${h}`, forgePng(forgePng(file, 16, w!), 20, h!)]);
    }
    for (const [depth, type] of [
      [16, 6],
      [8, 9],
      [3, 2],
    ]) {
      const b = new Uint8Array(file);
      b[24] = depth!;
      b[25] = type!;
      new DataView(b.buffer).setUint32(29, crc32(b.subarray(12, 29)));
      out.push([`IHDR depth ${depth} colour type ${type}`, b]);
    }
  } else {
    const sof = sofOffset(file);
    for (const [w, h] of [
      [65535, 65535],
      [4097, 4096],
      [0, 10],
      [3000, 3000],
      [pixels.width + 1, pixels.height],
    ]) {
      const b = new Uint8Array(file);
      new DataView(b.buffer).setUint16(sof + 5, h!);
      new DataView(b.buffer).setUint16(sof + 7, w!);
      out.push([`SOF ${w}x${h}`, b]);
    }
  }
  out.push(["trailing bytes", Uint8Array.from([...file, 0, 1, 2, 3])]);
  while (out.length < count) {
    if (int(3) === 0) out.push(["random truncation", file.slice(0, 4 + int(file.length - 4))]);
    else {
      const b = new Uint8Array(file);
      const flips = 1 + int(6);
      for (let i = 0; i < flips; i++) b[4 + int(b.length - 4)]! ^= 1 << int(8); // the signature stays: the decoder is reached
      out.push([`${flips} flipped bits`, b]);
    }
  }
  return out;
}

describe("image decoding fuzzed with mutated real files", () => {
  for (const [format, file] of [
    ["PNG", png],
    ["JPEG", jpg],
  ] as const) {
    it(`${format}: every mutation is refused with a CliError or decodes to exactly the size its header declares`, () => {
      let refused = 0;
      for (const [what, bytes] of mutations(file, format, new RandomState(format === "PNG" ? 31 : 37), 250)) {
        const name = `image.${format.toLowerCase()} (${what})`;
        try {
          const img = decodeImage(bytes, name);
          expect(img.data.length, what).toBe(img.width * img.height * 4);
          expect(img.width * img.height, what).toBeLessThanOrEqual(MAX_IMAGE_PIXELS);
          expect(img.data.length, what).toBeLessThanOrEqual(4 * 1032 * bytes.length); // deflate's ratio; a JPEG's is lower
        } catch (e) {
          if (!(e instanceof CliError)) throw new Error(`${what}: expected a CliError, got ${String(e)}`);
          expect(e.message.startsWith(`${name}: `), e.message).toBe(true);
          refused++;
        }
      }
      expect(refused).toBeGreaterThan(20);
    });
  }

  it("forged dimensions are refused from the header, before a decoder allocates for them", () => {
    const huge = forgePng(forgePng(png, 16, 65535), 20, 65535);
    expect(() => decodeImage(huge, "huge.png")).toThrow(
      /^huge\.png: cannot decode the image: the PNG header declares 65535x65535 pixels, more than the 16777216/,
    );
    const big = forgePng(forgePng(png, 16, 3000), 20, 3000);
    expect(() => decodeImage(big, "big.png")).toThrow(
      /^big\.png: cannot decode the image: the PNG header declares 3000x3000 pixels, more than a 4173-byte file can hold/,
    );
    const sof = sofOffset(jpg);
    const hugeJpeg = new Uint8Array(jpg);
    new DataView(hugeJpeg.buffer).setUint16(sof + 5, 65000);
    new DataView(hugeJpeg.buffer).setUint16(sof + 7, 65000);
    expect(() => decodeImage(hugeJpeg, "huge.jpg")).toThrow(/^huge\.jpg: cannot decode the image: the JPEG header declares 65000x65000 pixels/);
    expect(() => decodeImage(png.slice(0, 20), "short.png")).toThrow(/^short\.png: cannot decode the image: a PNG of 20 bytes is too short/);
  });
});
