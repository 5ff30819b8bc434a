import { LENET5_INITS, type LeNet5Options, lenet5Geometry } from "@tessera/nn";
import { TesseraError } from "@tessera/tensor";
import { UsageError } from "../cli/errors.js";
import type { TrainSettings } from "../config/settings.js";

/** MNIST's images: one grey channel of 28x28 pixels. */
export const MNIST_INPUT: [number, number, number] = [1, 28, 28];
/** MNIST's classes: the ten digits. */
export const MNIST_CLASSES = 10;

/** The LeNet-5 a run trains (everything but the generator). */
export type NetworkOptions = Required<Omit<LeNet5Options, "seed">>;

/** The network of a run's settings. */
export function networkOf(s: Pick<TrainSettings, "init" | "kernels" | "filterSize" | "poolSize" | "hidden">): NetworkOptions {
  return {
    inputShape: MNIST_INPUT,
    kernels: s.kernels,
    filterSize: s.filterSize,
    poolSize: s.poolSize,
    hidden: s.hidden,
    classes: MNIST_CLASSES,
    init: s.init,
  };
}

/**
 * Refuses settings whose filters or pooling windows leave no feature map, before any data is
 * loaded, naming the flags and the sizes on the way.
 */
export function checkNetwork(s: TrainSettings): void {
  try {
    lenet5Geometry(networkOf(s));
  } catch (err) {
    if (!(err instanceof TesseraError)) throw err;
    const reason = err.message
      .replace(/^LeNet5: /, "")
      .replace(/; use .*$/, "")
      .replace(/\bfilterSize\b/g, "--filter-size")
      .replace(/\bpoolSize\b/g, "--pool-size");
    throw new UsageError(`${reason}: no feature map is left of MNIST's 28x28 images; lower --filter-size or --pool-size`);
  }
}

/**
 * The LeNet-5 options a checkpoint's `architecture` metadata records, or null when it records
 * none (a state dict saved by PyTorch, say). Throws on a record that is not a LeNet-5 for MNIST.
 */
export function networkFromArchitecture(architecture: unknown): NetworkOptions | null {
  if (architecture === undefined) return null;
  const a = architecture as { type?: unknown; config?: Partial<NetworkOptions> };
  if (!a || typeof a !== "object" || a.type !== "LeNet5" || !a.config || typeof a.config !== "object") {
    throw new Error(`its architecture is ${JSON.stringify(architecture)}, not a LeNet5`);
  }
  const c = a.config;
  const input = c.inputShape ?? MNIST_INPUT;
  if (String(input) !== String(MNIST_INPUT) || (c.classes ?? MNIST_CLASSES) !== MNIST_CLASSES) {
    throw new Error(`its LeNet5 takes ${JSON.stringify(input)} inputs and ${c.classes} classes; MNIST has [1,28,28] images and 10 classes`);
  }
  // Files saved before `init` existed started from the filters as drawn.
  const init = c.init ?? "as-drawn";
  if (!LENET5_INITS.includes(init)) throw new Error(`its architecture has init ${JSON.stringify(init)}; expected one of ${LENET5_INITS.join(", ")}`);
  return {
    inputShape: MNIST_INPUT,
    kernels: c.kernels ?? [20, 50],
    filterSize: c.filterSize ?? 5,
    poolSize: c.poolSize ?? 2,
    hidden: c.hidden ?? 500,
    classes: MNIST_CLASSES,
    init,
  };
}
