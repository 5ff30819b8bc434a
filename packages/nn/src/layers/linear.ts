import * as T from "@tessera/tensor";
import { type RandomState, type Tensor, TesseraError } from "@tessera/tensor";
import { kaimingUniform, uniform } from "../init.js";
import { Module, parameter } from "../module.js";

/** Options of `Linear`. */
export interface LinearOptions {
  bias?: boolean;
  /** Generator of the default init (PyTorch's); the default generator (see `seed`) if omitted. */
  generator?: RandomState;
}

/** Fully connected layer y = x Wᵀ + b, weight [out, in] as in PyTorch. */
export class Linear extends Module {
  weight: Tensor;
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
    const rng = options.generator ?? T.getDefaultGenerator();
    this.weight = parameter(kaimingUniform([outFeatures, inFeatures], rng, Math.sqrt(2 / 6)));
    const bound = 1 / Math.sqrt(inFeatures);
    this.bias = options.bias === false ? null : parameter(uniform([outFeatures], -bound, bound, rng));
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
