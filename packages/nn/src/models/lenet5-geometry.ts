import { TesseraError } from "@tessera/tensor";

/** The options that decide LeNet-5's feature-map sizes. */
export interface LeNet5Shape {
  /** Input channels, height and width. */
  inputShape: readonly [number, number, number];
  /** Filters of the two convolutional layers. */
  kernels: readonly [number, number];
  /** Convolution window (square). */
  filterSize: number;
  /** Max-pooling window and stride (square, borders ignored). */
  poolSize: number;
}

/** One image's feature maps after each stage of LeNet-5, as [channels, height, width]. */
export interface LeNet5Geometry {
  /** The image the network takes. */
  input: [number, number, number];
  /** After the first convolution (no padding, stride 1). */
  conv1: [number, number, number];
  /** After the first max pooling. */
  pool1: [number, number, number];
  /** After the second convolution. */
  conv2: [number, number, number];
  /** After the second max pooling: what the hidden layer sees, flattened. */
  pool2: [number, number, number];
  /** Inputs of the hidden layer: pool2's values flattened. */
  flat: number;
}

const size = ([, h, w]: readonly number[]) => `${h}x${w}`;

/**
 * The feature-map shapes of LeNet-5 (valid convolutions, pooling that drops a partial window
 * as the tutorial's `ignore_border=True` does). Throws a `TesseraError` naming every size on the
 * way when a filter or a pooling window no longer fits its input, rather than building a
 * network with an empty layer.
 */
export function lenet5Geometry(shape: LeNet5Shape): LeNet5Geometry {
  const [c, h, w] = shape.inputShape;
  const [k1, k2] = shape.kernels;
  const f = shape.filterSize;
  const p = shape.poolSize;
  const input: [number, number, number] = [c, h, w];
  const fail = (what: string, trail: string) => new TesseraError("LeNet5", `${what} (${trail}); use a smaller filterSize or poolSize, or a larger input`);
  if (h < f || w < f) throw fail(`filterSize ${f} does not fit the ${size(input)} input`, `input ${size(input)}`);
  const conv1: [number, number, number] = [k1, h - f + 1, w - f + 1];
  let trail = `input ${size(input)}, conv1 ${f}x${f} -> ${size(conv1)}`;
  if (conv1[1] < p || conv1[2] < p) throw fail(`poolSize ${p} does not fit conv1's ${size(conv1)} feature maps`, trail);
  const pool1: [number, number, number] = [k1, Math.floor(conv1[1] / p), Math.floor(conv1[2] / p)];
  trail += `, pool ${p}x${p} -> ${size(pool1)}`;
  if (pool1[1] < f || pool1[2] < f) throw fail(`filterSize ${f} does not fit conv2's ${size(pool1)} input`, trail);
  const conv2: [number, number, number] = [k2, pool1[1] - f + 1, pool1[2] - f + 1];
  trail += `, conv2 ${f}x${f} -> ${size(conv2)}`;
  if (conv2[1] < p || conv2[2] < p) throw fail(`poolSize ${p} does not fit conv2's ${size(conv2)} feature maps`, trail);
  const pool2: [number, number, number] = [k2, Math.floor(conv2[1] / p), Math.floor(conv2[2] / p)];
  return { input, conv1, pool1, conv2, pool2, flat: pool2[0] * pool2[1] * pool2[2] };
}
