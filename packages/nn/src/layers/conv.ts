import * as T from "@tessera/tensor";
import { type RandomState, type Tensor, Tensor as TensorClass, TesseraError } from "@tessera/tensor";
import { kaimingUniform, uniform } from "../init.js";
import { Module, checkedInit, parameter } from "../module.js";

/** Options of `Conv2d`. */
export interface Conv2dOptions {
  /** Step between windows, one number or [height, width] (default 1). */
  stride?: T.Pair;
  /** Zeros added on each side, one number or [height, width] (default 0). */
  padding?: T.Pair;
  /** Spacing between kernel taps, one number or [height, width] (default 1). */
  dilation?: T.Pair;
  /** Channel groups: each output channel sees `inChannels / groups` inputs (default 1). */
  groups?: number;
  /** Generator of the default init (PyTorch's: Kaiming-uniform with a=√5); the default generator (see `seed`) if omitted. */
  generator?: RandomState;
  /** Initial weight [out, in/groups, kh, kw], taken as the parameter (not copied); nothing is drawn for it. */
  weight?: Tensor;
  /** `false`: no bias; a tensor [out]: the initial bias, taken as the parameter (not copied), nothing drawn for it. */
  bias?: boolean | Tensor;
}

/**
 * 2-D convolution layer (NCHW): weight [out, in/groups, kh, kw], optional bias [out]. Computes
 * cross-correlation like PyTorch, so state dicts move between the two unchanged.
 */
export class Conv2d extends Module {
  /** The filters [out, in/groups, kh, kw] (a parameter). */
  weight: Tensor;
  /** The bias [out] (a parameter), or null without one. */
  bias: Tensor | null;
  /** Stride, padding, dilation and groups, with the defaults filled in. */
  readonly options: Required<Omit<Conv2dOptions, "bias" | "generator" | "weight">>;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: T.Pair,
    options: Conv2dOptions = {},
  ) {
    super();
    const groups = options.groups ?? 1;
    for (const [name, v] of [
      ["inChannels", inChannels],
      ["outChannels", outChannels],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new TesseraError("Conv2d", `${name} must be a positive integer, got ${v}`);
    }
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new TesseraError("Conv2d", `inChannels ${inChannels} and outChannels ${outChannels} must be divisible by groups ${groups}`);
    }
    const [kh, kw] = typeof kernelSize === "number" ? [kernelSize, kernelSize] : kernelSize;
    this.options = { stride: options.stride ?? 1, padding: options.padding ?? 0, dilation: options.dilation ?? 1, groups };
    const shape = [outChannels, inChannels / groups, kh, kw];
    // The generator is touched only for values not given, so given weights leave it where it was.
    const rng = () => options.generator ?? T.getDefaultGenerator();
    this.weight = parameter(options.weight ? checkedInit("Conv2d", "weight", options.weight, shape) : kaimingUniform(shape, rng(), Math.sqrt(2 / 6)));
    const bound = 1 / Math.sqrt((inChannels / groups) * kh * kw);
    const bias = options.bias;
    if (bias === false) this.bias = null;
    else if (bias instanceof TensorClass) this.bias = parameter(checkedInit("Conv2d", "bias", bias, [outChannels]));
    else this.bias = parameter(uniform([outChannels], -bound, bound, rng()));
  }

  forward(x: Tensor): Tensor {
    const y = T.conv2d(x, this.weight, this.options);
    if (!this.bias) return y;
    const b = T.reshape(this.bias, [1, this.outChannels, 1, 1]);
    const out = T.add(y, b);
    y.dispose();
    b.dispose();
    return out;
  }
}
