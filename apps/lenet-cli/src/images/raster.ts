import jpeg from "jpeg-js";
import pngjs from "pngjs";
import { CliError } from "../cli/errors.js";
import { MAX_IMAGE_PIXELS, checkDeclaredSize } from "./declared-size.js";

const { PNG } = pngjs;

/** An 8-bit RGBA image, row-major. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A new opaque image filled with one colour. */
export function blankImage(width: number, height: number, rgb: [number, number, number] = [255, 255, 255]): Rgba {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  return { width, height, data };
}

/** Copies `src` into `dst` with its top-left corner at (x, y). */
export function blit(dst: Rgba, src: Rgba, x: number, y: number): void {
  for (let r = 0; r < src.height; r++) {
    const dy = y + r;
    if (dy < 0 || dy >= dst.height) continue;
    for (let c = 0; c < src.width; c++) {
      const dx = x + c;
      if (dx < 0 || dx >= dst.width) continue;
      dst.data.set(src.data.subarray((r * src.width + c) * 4, (r * src.width + c) * 4 + 4), (dy * dst.width + dx) * 4);
    }
  }
}

/** A grey image from values in [0, 255] (clamped and rounded). */
export function greyImage(width: number, height: number, values: ArrayLike<number>): Rgba {
  const img = blankImage(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = Math.max(0, Math.min(255, Math.round(values[i]!)));
    img.data[i * 4] = v;
    img.data[i * 4 + 1] = v;
    img.data[i * 4 + 2] = v;
  }
  return img;
}

/** PNG bytes of an image. */
export function encodePng(img: Rgba): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return PNG.sync.write(png, { colorType: 6 });
}

function isPng(b: Uint8Array): boolean {
  return b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}

function isJpeg(b: Uint8Array): boolean {
  return b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/**
 * Decodes PNG or JPEG bytes (told apart by their signature) to RGBA. `name` is used in errors.
 * The declared size is checked first (see `checkDeclaredSize`), so a damaged or hostile file
 * is refused with a CliError before a decoder allocates for it.
 */
export function decodeImage(bytes: Uint8Array, name: string): Rgba {
  const format = isPng(bytes) ? "PNG" : isJpeg(bytes) ? "JPEG" : undefined;
  if (format === undefined) throw new CliError(`${name}: not a PNG or JPEG image`);
  const refuse = (reason: string): never => {
    throw new CliError(`${name}: cannot decode the image: ${reason}`);
  };
  const declared = checkDeclaredSize(bytes, format, refuse);
  let img: Rgba;
  try {
    if (format === "PNG") {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      img = { width: png.width, height: png.height, data: new Uint8Array(png.data) };
    } else {
      const decoded = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
        maxMemoryUsageInMB: 512,
      });
      img = { width: decoded.width, height: decoded.height, data: decoded.data };
    }
  } catch (err) {
    return refuse(err instanceof Error ? err.message : String(err));
  }
  if (img.width !== declared.width || img.height !== declared.height || img.data.length !== img.width * img.height * 4) {
    refuse(`decoded ${img.width}x${img.height} pixels (${img.data.length} bytes) but the header declares ${declared.width}x${declared.height}`);
  }
  return img;
}
