import * as T from "@tessera/tensor";
import type { Tensor } from "@tessera/tensor";
import { Module } from "../module.js";

/** Elementwise tanh. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return T.tanh(x);
  }
}

/** Elementwise max(x, 0). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return T.relu(x);
  }
}

/** Elementwise logistic function. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return T.sigmoid(x);
  }
}

/** Softmax along `axis` (the last by default). */
export class Softmax extends Module {
  constructor(readonly axis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return T.softmax(x, this.axis);
  }
}

/** Log-softmax along `axis` (the last by default). */
export class LogSoftmax extends Module {
  constructor(readonly axis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return T.logSoftmax(x, this.axis);
  }
}
