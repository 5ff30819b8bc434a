/** An error raised by a Tessera operation: names the op, what it got and what it expected. */
export class TesseraError extends Error {
  /** The operation that refused its input, for example `conv2d`. */
  readonly op: string;
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = "TesseraError";
    this.op = op;
  }
}

/** Formats a shape the way errors print it: `[20,1,28,28]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}
