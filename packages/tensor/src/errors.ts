/** An error raised by a Tessera operation: names the op, what it got and what it expected. */
export class TesseraError extends Error {
  /** The operation that refused its input, for example `conv2d`. */
  readonly op: string;
  constructor(op: string, message: string, options?: { cause?: unknown }) {
    super(`${op}: ${message}`, options);
    this.name = "TesseraError";
    this.op = op;
  }
}

/** Formats a shape the way errors print it: `[20,1,28,28]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Formats a byte count for errors: `40000000000 bytes (37.3 GiB)`. */
export function fmtBytes(bytes: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let v = bytes;
  let unit = "";
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return unit ? `${bytes} bytes (${v.toFixed(1)} ${unit})` : `${bytes} bytes`;
}
