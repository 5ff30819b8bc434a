/** Shared helpers of the nn tests (not a test file itself). */
import * as T from "@tessera/tensor";
import { RandomState, type Tensor } from "@tessera/tensor";
import { type RefArray, reference } from "@tessera/tensor/testing";

/** LeNet5's state-dict names (PyTorch's), sorted: what a checkpoint of it holds. */
export const LENET5_STATE_NAMES = ["conv1.bias", "conv1.weight", "conv2.bias", "conv2.weight", "fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"];

/** A float32 tensor of `shape` with U(low, high) values from a seeded generator. */
export function randomTensor(shape: readonly number[], seed: number, low = -1, high = 1): Tensor {
  const rng = new RandomState(seed);
  return T.tensor(
    rng.uniform(
      low,
      high,
      shape.reduce((a, b) => a * b, 1),
    ),
    { shape, dtype: "float32" },
  );
}

/** The float64 reference array holding a tensor's (float32) values. */
export function toRef(t: Tensor): RefArray {
  return reference.ref([...t.shape], t.dataSync() as ArrayLike<number>);
}

/** The values of a tensor as a plain number array. */
export function values(t: Tensor): number[] {
  return Array.from(t.dataSync() as ArrayLike<number>);
}

/** A reference array of `shape` with U(-1, 1) values (a fixed upstream gradient for gradient checks). */
export function randomRef(shape: readonly number[], seed: number): RefArray {
  const rng = new RandomState(seed);
  return reference.ref(
    shape,
    rng.uniform(
      -1,
      1,
      shape.reduce((a, b) => a * b, 1),
    ),
  );
}

/** Adds a bias per channel (axis 1) to a reference [N, C, ...] array. */
export function refAddChannelBias(y: RefArray, b: RefArray): RefArray {
  const shape = [1, b.shape[0]!, ...y.shape.slice(2).map(() => 1)];
  return reference.binary("add", y, reference.reshape(b, shape));
}

/** Reference Linear: x Wᵀ + b. */
export function refLinear(x: RefArray, w: RefArray, b?: RefArray): RefArray {
  const y = reference.matmul(x, reference.transpose(w));
  return b ? reference.binary("add", y, b) : y;
}

/**
 * Runs `forward` on tensors built from `inputs` (which require gradients), backpropagates
 * sum(output * dy), and returns the output values and each input's gradient values.
 */
export function autogradOf(forward: (xs: Tensor[]) => Tensor, inputs: readonly Tensor[], dy: RefArray): { output: Float32Array; grads: Float32Array[] } {
  for (const x of inputs) x.requiresGrad = true;
  const upstream = T.tensor(Float32Array.from(dy.data), { shape: dy.shape, dtype: "float32" });
  try {
    const output = T.tidy(() => {
      const y = forward([...inputs]);
      const loss = T.sum(T.mul(y, upstream));
      loss.backward();
      return y.dataSync() as Float32Array;
    });
    const grads = inputs.map((x) => {
      if (!x.grad) throw new Error(`input ${x.toString()} received no gradient`);
      return x.grad.dataSync() as Float32Array;
    });
    return { output, grads };
  } finally {
    upstream.dispose();
    for (const x of inputs) {
      x.grad?.dispose();
      x.grad = null;
    }
  }
}
