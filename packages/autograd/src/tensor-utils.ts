import { type Tensor, TesseraError, keep } from "@tessera/tensor";

export { type Tensor, TesseraError, keep };

/** `[2,3]`, for error messages. */
export function fmtShapeOf(t: Tensor): string {
  return `[${t.shape.join(",")}]`;
}
