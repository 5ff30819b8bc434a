import * as T from "@tessera/tensor";
import { type RandomState, type Tensor, TesseraError } from "@tessera/tensor";
import { Module } from "../module.js";

/** Flattens dims startAxis..endAxis (by default everything but the batch dim). */
export class Flatten extends Module {
  constructor(
    readonly startAxis = 1,
    readonly endAxis = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return T.flatten(x, this.startAxis, this.endAxis);
  }
}

/** Zeroes each element with probability `p` in training (scaling the rest by 1/(1-p)); identity in eval. */
export class Dropout extends Module {
  private readonly rng: RandomState;
  constructor(
    readonly p = 0.5,
    generator?: RandomState,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new TesseraError("Dropout", `p must be in [0, 1), got ${p}`);
    this.rng = generator ?? T.getDefaultGenerator();
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return T.mul(x, 1);
    return T.tidy(() => {
      const keepMask = T.cast(T.greaterEqual(T.rand(x.shape, { generator: this.rng, backend: x.backend }), this.p), "float32");
      return T.mul(T.mul(x, keepMask), 1 / (1 - this.p));
    });
  }
}

/** Runs modules in order, each on the previous one's output; intermediates are freed. */
export class Sequential extends Module {
  /** The modules, in the order they run. */
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }
  /** Children are named by index ("0", "1", ...), as PyTorch names them. */
  override *namedChildren(): Generator<[string, Module]> {
    for (const [i, layer] of this.layers.entries()) yield [String(i), layer];
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const layer of this.layers) {
      const next = layer.forward(h);
      if (h !== x && h !== next) h.dispose();
      h = next;
    }
    return h === x ? T.mul(x, 1) : h;
  }
}
