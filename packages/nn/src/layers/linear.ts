import * as T from "@tessera/tensor";
import { type RandomState, type Tensor, Tensor as TensorClass, TesseraError } from "@tessera/tensor";
import { kaimingUniform, uniform } from "../init.js";
import { Module, checkedInit, parameter } from "../module.js";

/** Options of `Linear`. */
export interface LinearOptions {
  /** `false`: no bias; a tensor [out]: the initial bias, taken as the parameter (not copied), nothing drawn for it. */
  bias?: boolean | Tensor;
  /** Generator of the default init (PyTorch's); the default generator (see `seed`) if omitted. */
  generator?: RandomState;
  /** Initial weight [out, in], taken as the parameter (not copied); nothing is drawn for it. */
  weight?: Tensor;
}

/** Fully connected layer y = x Wᵀ + b, weight [out, in] as in PyTorch. */
export class Linear extends Module {
  /** The weight [out, in] (a parameter). */
  weight: Tensor;
  /** The bias [out] (a parameter), or null without one. */
  bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    for (const [name, v] of [
      ["inFeatures", inFeatures],
      ["outFeatures", outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new TesseraError("Linear", `${name} must be a positive integer, got ${v}`);
    }
    // The generator is touched only for values not given, so given weights leave it where it was.
    const rng = () => options.generator ?? T.getDefaultGenerator();
    const shape = [outFeatures, inFeatures];
    this.weight = parameter(options.weight ? checkedInit("Linear", "weight", options.weight, shape) : kaimingUniform(shape, rng(), Math.sqrt(2 / 6)));
    const bound = 1 / Math.sqrt(inFeatures);
    const bias = options.bias;
    if (bias === false) this.bias = null;
    else if (bias instanceof TensorClass) this.bias = parameter(checkedInit("Linear", "bias", bias, [outFeatures]));
    else this.bias = parameter(uniform([outFeatures], -bound, bound, rng()));
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new TesseraError("Linear", `input has ${x.shape[x.rank - 1]} features but the layer expects ${this.inFeatures} (input [${x.shape.join(",")}])`);
    }
    return T.tidy(() => {
      const y = T.matmul(x, T.transpose(this.weight));
      return this.bias ? T.add(y, this.bias) : y;
    });
  }
}

/** The design card's name for `Linear`. */
export const Dense = Linear;
