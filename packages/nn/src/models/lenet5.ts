import * as T from "@tessera/tensor";
import { RandomState, type Tensor, TesseraError } from "@tessera/tensor";
import { theanoConvInit, tutorialConvInit, tutorialHiddenInit } from "../init.js";
import { Conv2d } from "../layers/conv.js";
import { Linear } from "../layers/linear.js";
import { Module, type ModuleArchitecture } from "../module.js";
import { lenet5Geometry } from "./lenet5-geometry.js";

/**
 * How LeNet-5's drawn convolution filters become weights. The tutorial draws each filter and
 * hands it to Theano's `conv2d`, a true convolution, which flips the filter on both spatial axes;
 * our `conv2d` (like PyTorch's) is a cross-correlation, which does not.
 * - `"theano-conv"`: each drawn filter is flipped before it becomes a weight, so the network
 *   computes what the tutorial's computed: the tutorial's exact start.
 * - `"as-drawn"`: the drawn filters are the cross-correlation weights unchanged: the tutorial's
 *   filters mirrored, another start of the same network (what LeNet5 did before `init` existed).
 */
export type LeNet5Init = "theano-conv" | "as-drawn";

/** The values `LeNet5Options.init` takes. */
export const LENET5_INITS: readonly LeNet5Init[] = ["theano-conv", "as-drawn"];

/** LeNet-5's configuration; the defaults are those of the DeepLearningTutorials' LeNet chapter (`convolutional_mlp.py`). */
export interface LeNet5Options {
  /** Input channels, height and width (1x28x28 for MNIST). */
  inputShape?: [number, number, number];
  /** Filters of the two convolutional layers (20 and 50). */
  kernels?: [number, number];
  /** Convolution window (5). */
  filterSize?: number;
  /** Pooling window (2). */
  poolSize?: number;
  /** Units of the tanh hidden layer (500). */
  hidden?: number;
  /** Classes (10). */
  classes?: number;
  /** How the drawn convolution filters become weights ("theano-conv": the tutorial's exact start; see `LeNet5Init`). */
  init?: LeNet5Init;
  /** Seed of the tutorial's init generator (23455), or a generator. */
  seed?: number | RandomState;
}

/**
 * LeNet-5 as the tutorial builds it: conv 5x5 → max-pool 2x2 → + bias → tanh (x2), then a tanh
 * hidden layer and a softmax layer. `forward` returns logits; apply
 * `crossEntropyLoss` or `logSoftmax`. Parameter names (conv1/conv2/fc1/fc2 .weight/.bias) and
 * layouts match the PyTorch module in docs/pytorch-interop.md: the weights are always stored as
 * cross-correlation kernels, whatever `init` chose. A filter or pooling window that leaves no
 * feature map is refused with a `TesseraError` naming the sizes.
 */
export class LeNet5 extends Module {
  /** First convolution: 1 input channel to `kernels[0]` maps. */
  conv1: Conv2d;
  /** Second convolution: `kernels[0]` to `kernels[1]` maps. */
  conv2: Conv2d;
  /** Hidden layer: the flattened feature maps to `hidden` units (tanh). */
  fc1: Linear;
  /** Output layer: `hidden` units to the class logits. */
  fc2: Linear;
  /** The architecture's options with the defaults filled in (what checkpoints record). */
  readonly config: Required<Omit<LeNet5Options, "seed">>;

  constructor(options: LeNet5Options = {}) {
    super();
    const config = {
      inputShape: options.inputShape ?? ([1, 28, 28] as [number, number, number]),
      kernels: options.kernels ?? ([20, 50] as [number, number]),
      filterSize: options.filterSize ?? 5,
      poolSize: options.poolSize ?? 2,
      hidden: options.hidden ?? 500,
      classes: options.classes ?? 10,
      init: options.init ?? "theano-conv",
    };
    checkOptions(config);
    this.config = config;
    const rng = options.seed instanceof RandomState ? options.seed : new RandomState(options.seed ?? 23455);
    const [c] = config.inputShape;
    const [k1, k2] = config.kernels;
    const f = config.filterSize;
    const { flat } = lenet5Geometry(config);
    const convInit = config.init === "theano-conv" ? theanoConvInit : tutorialConvInit;
    // Each layer gets its tutorial values up front, drawn in the tutorial's order (layer0 W,
    // layer1 W, layer2 W from one generator; biases and the logistic layer are zeros), so the
    // layers' own default init never runs and the global default generator is not advanced.
    this.conv1 = new Conv2d(c, k1, f, { weight: convInit([k1, c, f, f], rng), bias: T.zeros([k1]) });
    this.conv2 = new Conv2d(k1, k2, f, { weight: convInit([k2, k1, f, f], rng), bias: T.zeros([k2]) });
    this.fc1 = new Linear(flat, config.hidden, { weight: tutorialHiddenInit(flat, config.hidden, rng), bias: T.zeros([config.hidden]) });
    this.fc2 = new Linear(config.hidden, config.classes, { weight: T.zeros([config.classes, config.hidden]), bias: T.zeros([config.classes]) });
  }

  /** The class and its configuration, recorded in checkpoints (`new LeNet5(config)` rebuilds the shapes). */
  override architecture(): ModuleArchitecture {
    return { type: "LeNet5", config: { ...this.config } };
  }

  /** Logits [N, classes] for images [N, C, H, W]. */
  forward(x: Tensor): Tensor {
    const pool = { kernelSize: this.config.poolSize };
    // The tutorial's order: convolve, pool, then add the bias. Max pooling commutes with a
    // per-channel constant, so this is conv2d's bias, added to a quarter of the values.
    const layer = (conv: Conv2d, h: Tensor) => {
      const pooled = T.maxPool2d(T.conv2d(h, conv.weight, conv.options), pool);
      return T.tanh(conv.bias ? T.add(pooled, T.reshape(conv.bias, [1, conv.outChannels, 1, 1])) : pooled);
    };
    return T.tidy(() => {
      const h0 = layer(this.conv1, x);
      const h1 = layer(this.conv2, h0);
      const h2 = T.tanh(this.fc1.forward(T.flatten(h1, 1)));
      return this.fc2.forward(h2);
    });
  }
}

/** Refuses options that are not positive integers (or an unknown init) before anything is drawn. */
function checkOptions(config: Required<Omit<LeNet5Options, "seed">>): void {
  const sizes: Array<[string, unknown]> = [
    ["inputShape", config.inputShape],
    ["kernels", config.kernels],
  ];
  for (const [name, v] of sizes) {
    const want = name === "inputShape" ? 3 : 2;
    if (!Array.isArray(v) || v.length !== want || !v.every((n) => Number.isInteger(n) && n >= 1)) {
      throw new TesseraError("LeNet5", `${name} must be ${want} positive integers, got ${JSON.stringify(v)}`);
    }
  }
  for (const name of ["filterSize", "poolSize", "hidden", "classes"] as const) {
    const v = config[name];
    if (!Number.isInteger(v) || v < 1) throw new TesseraError("LeNet5", `${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  if (!LENET5_INITS.includes(config.init)) {
    throw new TesseraError("LeNet5", `init must be one of ${LENET5_INITS.map((i) => JSON.stringify(i)).join(", ")}, got ${JSON.stringify(config.init)}`);
  }
}
