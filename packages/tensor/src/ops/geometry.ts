import type { Conv2dParams, Pool2dParams, Shape4 } from "../backend/contract.js";
import { TesseraError, fmtShape } from "../errors.js";

/** A number for both spatial dims, or [height, width]. */
export type Pair = number | readonly [number, number];

/** Options of `conv2d` and its gradients. */
export interface Conv2dOptions {
  /** Step between windows, one number or [height, width] (default 1). */
  stride?: Pair;
  /** Zeros added on each side, one number or [height, width] (default 0). */
  padding?: Pair;
  /** Spacing between kernel taps, one number or [height, width] (default 1). */
  dilation?: Pair;
  /** Channel groups: each output channel sees `C / groups` input channels (default 1). */
  groups?: number;
}

/** Options of `maxPool2d` / `avgPool2d`. */
export interface Pool2dOptions {
  /** Window size (required). */
  kernelSize: Pair;
  /** Step between windows; the kernel size by default. */
  stride?: Pair;
  /** Padding on each side, one number or [height, width] (default 0; padding never wins a max and is not counted in a mean). */
  padding?: Pair;
  /** Keep a last partial window (PyTorch's ceil_mode). */
  ceilMode?: boolean;
  /** Theano's border rule: `true` drops partial windows, `false` keeps them (ceilMode). */
  ignoreBorder?: boolean;
}

function pair(op: string, name: string, v: Pair | undefined, dflt: number, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < min)) {
    throw new TesseraError(op, `${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Validates conv2d options into kernel params. */
export function convParams(op: string, o: Conv2dOptions = {}): Conv2dParams {
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new TesseraError(op, `groups must be a positive integer, got ${groups}`);
  return {
    stride: pair(op, "stride", o.stride, 1, 1),
    padding: pair(op, "padding", o.padding, 0, 0),
    dilation: pair(op, "dilation", o.dilation, 1, 1),
    groups,
  };
}

/** Output size of one spatial dim of a convolution. */
export function convOutSize(n: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/** Checks x/w shapes of a convolution and returns the output shape. */
export function convShapes(op: string, x: readonly number[], w: readonly number[], p: Conv2dParams): Shape4 {
  if (x.length !== 4) throw new TesseraError(op, `input must be 4-D [N,C,H,W], got ${fmtShape(x)}`);
  if (w.length !== 4) throw new TesseraError(op, `weight must be 4-D [O,C/groups,KH,KW], got ${fmtShape(w)}`);
  const [N, C, H, W] = x as Shape4;
  const [O, Cg, KH, KW] = w as Shape4;
  if (C !== Cg * p.groups) {
    throw new TesseraError(
      op,
      `input has ${C} channels but weight expects ${Cg * p.groups} (${Cg} x ${p.groups} groups) (input ${fmtShape(x)}, weight ${fmtShape(w)})`,
    );
  }
  if (O % p.groups !== 0) throw new TesseraError(op, `weight has ${O} output channels, not divisible by ${p.groups} groups`);
  const OH = convOutSize(H, KH, p.stride[0], p.padding[0], p.dilation[0]);
  const OW = convOutSize(W, KW, p.stride[1], p.padding[1], p.dilation[1]);
  if (OH < 1 || OW < 1) {
    throw new TesseraError(
      op,
      `kernel ${KH}x${KW} (dilation ${p.dilation.join("x")}) does not fit the padded input ${H + 2 * p.padding[0]}x${W + 2 * p.padding[1]} (input ${fmtShape(x)}, weight ${fmtShape(w)})`,
    );
  }
  return [N, O, OH, OW];
}

/** Validates pooling options into kernel params. */
export function poolParams(op: string, o: Pool2dOptions): Pool2dParams {
  if (o === null || typeof o !== "object") throw new TesseraError(op, `expected options with kernelSize, got ${JSON.stringify(o)}`);
  const kernel = pair(op, "kernelSize", o.kernelSize, NaN, 1);
  const s: [number, number] = o.stride === undefined ? kernel : pair(op, "stride", o.stride, 1, 1);
  const padding = pair(op, "padding", o.padding, 0, 0);
  if (padding[0] * 2 > kernel[0] || padding[1] * 2 > kernel[1]) {
    throw new TesseraError(op, `padding ${padding.join("x")} must be at most half the kernel ${kernel.join("x")}`);
  }
  if (o.ceilMode !== undefined && o.ignoreBorder !== undefined && o.ceilMode === o.ignoreBorder) {
    throw new TesseraError(op, "ceilMode and ignoreBorder disagree (ignoreBorder: false is ceilMode: true)");
  }
  const ceilMode = o.ceilMode ?? (o.ignoreBorder === undefined ? false : !o.ignoreBorder);
  return { kernel, stride: s, padding, ceilMode };
}

/** Output size of one spatial dim of a pooling window (PyTorch's rule for ceil mode). */
export function poolOutSize(n: number, k: number, s: number, p: number, ceil: boolean): number {
  const span = n + 2 * p - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + p) out--;
  return out;
}

/** Checks a pooling input and returns the output shape. */
export function poolShape(op: string, x: readonly number[], p: Pool2dParams): Shape4 {
  if (x.length !== 4) throw new TesseraError(op, `input must be 4-D [N,C,H,W], got ${fmtShape(x)}`);
  const [N, C, H, W] = x as Shape4;
  const OH = poolOutSize(H, p.kernel[0], p.stride[0], p.padding[0], p.ceilMode);
  const OW = poolOutSize(W, p.kernel[1], p.stride[1], p.padding[1], p.ceilMode);
  if (OH < 1 || OW < 1) {
    throw new TesseraError(op, `window ${p.kernel.join("x")} does not fit the input ${fmtShape(x)} with padding ${p.padding.join("x")}`);
  }
  return [N, C, OH, OW];
}
