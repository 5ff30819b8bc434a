/**
 * The size an image file declares, read from its header before any decoder allocates for it:
 * a PNG's IHDR chunk, a JPEG's start-of-frame segment. An untrusted file can declare anything;
 * `checkDeclaredSize` refuses what no genuine file of its length could hold.
 */

/** What a header says: dimensions, and the bytes of raw image data they imply. */
export interface DeclaredSize {
  readonly format: "PNG" | "JPEG";
  readonly width: number;
  readonly height: number;
  /** Decoded bytes the file claims (PNG: filtered scanlines; JPEG: 8-bit samples of every component). */
  readonly rawBytes: number;
}

/** The most pixels `predict` decodes: 16.7 megapixels (4096 x 4096), more than any phone photo. */
export const MAX_IMAGE_PIXELS = 4096 * 4096;
/** Deflate's largest expansion (about 1032:1): a PNG's image data cannot exceed this times its file. */
const MAX_DEFLATE_RATIO = 1032;
/**
 * A Huffman-coded JPEG spends at least one bit on the DC coefficient of every 8x8 block of every
 * component, whatever else it skips (progressive end-of-band runs included): at most 64 pixels
 * per bit.
 */
const MAX_JPEG_PIXELS_PER_BYTE = 512;

const PNG_CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function be32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function pngSize(b: Uint8Array): DeclaredSize | string {
  // signature (8), IHDR length (4), "IHDR" (4), width, height, bit depth, colour type
  if (b.length < 26) return `a PNG of ${b.length} bytes is too short for its IHDR header`;
  if (String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== "IHDR") return "the PNG does not start with an IHDR chunk";
  const width = be32(b, 16);
  const height = be32(b, 20);
  const channels = PNG_CHANNELS[b[25]!];
  if (channels === undefined) return `unknown PNG colour type ${b[25]}`;
  const rowBytes = 1 + Math.ceil((width * channels * b[24]!) / 8);
  return { format: "PNG", width, height, rawBytes: height * rowBytes };
}

function jpegSize(b: Uint8Array): DeclaredSize | string {
  let at = 2; // after SOI
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return `JPEG marker expected at byte ${at}`;
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    const length = (b[at + 2]! << 8) | b[at + 3]!;
    // start of frame: C0-CF except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 10 > b.length) break;
      const height = (b[at + 5]! << 8) | b[at + 6]!;
      const width = (b[at + 7]! << 8) | b[at + 8]!;
      const components = b[at + 9]!;
      return { format: "JPEG", width, height, rawBytes: width * height * Math.max(1, components) };
    }
    if (marker === 0xda || marker === 0xd9) return "the JPEG has no frame header before its image data";
    at += 2 + length;
  }
  return "the JPEG ends before its frame header";
}

/**
 * Throws (through `fail`) when the header declares an image that is empty, larger than
 * MAX_IMAGE_PIXELS, or larger than a file of this length can genuinely hold; returns the size otherwise.
 */
export function checkDeclaredSize(bytes: Uint8Array, format: "PNG" | "JPEG", fail: (reason: string) => never): DeclaredSize {
  const size = format === "PNG" ? pngSize(bytes) : jpegSize(bytes);
  if (typeof size === "string") fail(size);
  const { width, height } = size;
  const pixels = width * height;
  if (pixels === 0) fail(`the ${format} header declares an empty ${width}x${height} image`);
  if (pixels > MAX_IMAGE_PIXELS) {
    fail(`the ${format} header declares ${width}x${height} pixels, more than the ${MAX_IMAGE_PIXELS} (4096x4096) this command decodes`);
  }
  const limit = format === "PNG" ? bytes.length * MAX_DEFLATE_RATIO : bytes.length * MAX_JPEG_PIXELS_PER_BYTE;
  const claimed = format === "PNG" ? size.rawBytes : pixels;
  if (claimed > limit) {
    fail(`the ${format} header declares ${width}x${height} pixels, more than a ${bytes.length}-byte file can hold (truncated or corrupt)`);
  }
  return size;
}
