import * as T from "@tessera/tensor";
import type { Pool2dOptions, Tensor } from "@tessera/tensor";
import { Module } from "../module.js";

/** Options of the pooling layers: the window and, optionally, stride, padding and border rule. */
export type PoolOptions = Omit<Pool2dOptions, "kernelSize">;

/**
 * 2-D max pooling. `ignoreBorder: false` keeps partial windows at the border, as Theano's
 * `max_pool_2d(..., ignore_border=False)` (PyTorch's `ceil_mode=True`).
 */
export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: T.Pair,
    readonly options: PoolOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return T.maxPool2d(x, { kernelSize: this.kernelSize, ...this.options });
  }
}

/** 2-D average pooling (divides by the input cells each window covers). */
export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: T.Pair,
    readonly options: PoolOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return T.avgPool2d(x, { kernelSize: this.kernelSize, ...this.options });
  }
}
