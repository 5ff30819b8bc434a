import { RandomState, type Tensor, TesseraError, tensor } from "@tessera/tensor";

/** Where initialisers draw from: a numpy-compatible generator (seeded for reproducibility). */
export type Generator = RandomState;

/** Fan-in and fan-out of a weight: Linear [out,in] or Conv [out,in,kh,kw] (PyTorch's rule). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new TesseraError("init", `fan-in needs a weight of rank >= 2, got [${shape.join(",")}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

function fromDraws(shape: readonly number[], draws: Float64Array): Tensor {
  return tensor(draws, { shape, dtype: "float32" });
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** U(low, high) values of `shape`. */
export function uniform(shape: readonly number[], low: number, high: number, rng: Generator): Tensor {
  return fromDraws(shape, rng.uniform(low, high, count(shape)));
}

/** N(mean, std²) values of `shape`. */
export function normal(shape: readonly number[], mean: number, std: number, rng: Generator): Tensor {
  return fromDraws(shape, rng.normal(mean, std, count(shape)));
}

/** Glorot/Xavier uniform: U(±gain·sqrt(6/(fanIn+fanOut))). */
export function xavierUniform(shape: readonly number[], rng: Generator, gain = 1): Tensor {
  const { fanIn, fanOut } = fans(shape);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(shape, -bound, bound, rng);
}

/** Glorot/Xavier normal: N(0, gain²·2/(fanIn+fanOut)). */
export function xavierNormal(shape: readonly number[], rng: Generator, gain = 1): Tensor {
  const { fanIn, fanOut } = fans(shape);
  return normal(shape, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), rng);
}

/** He/Kaiming uniform for ReLU: U(±sqrt(6/fanIn)). */
export function kaimingUniform(shape: readonly number[], rng: Generator, gain = Math.SQRT2): Tensor {
  const bound = gain * Math.sqrt(3 / fans(shape).fanIn);
  return uniform(shape, -bound, bound, rng);
}

/** He/Kaiming normal for ReLU: N(0, 2/fanIn). */
export function kaimingNormal(shape: readonly number[], rng: Generator, gain = Math.SQRT2): Tensor {
  return normal(shape, 0, gain / Math.sqrt(fans(shape).fanIn), rng);
}

/**
 * The LeNet tutorial's convolution init: U(±sqrt(3/fanIn)), fanIn = in_channels·kh·kw, drawn in
 * the tutorial's [out, in, kh, kw] order.
 */
export function tutorialConvInit(shape: readonly number[], rng: Generator): Tensor {
  const bound = Math.sqrt(3 / fans(shape).fanIn);
  return uniform(shape, -bound, bound, rng);
}

/**
 * The LeNet tutorial's convolution init as the tutorial's network applies it: the values
 * `tutorialConvInit` draws, with each filter flipped on both spatial axes (numpy's
 * `w[:, :, ::-1, ::-1]`). Theano's `conv2d` is a true convolution, which flips its kernel; our
 * `conv2d`, like PyTorch's, is a cross-correlation, which does not. With these weights it computes
 * exactly what Theano computed with the drawn filters.
 */
export function theanoConvInit(shape: readonly number[], rng: Generator): Tensor {
  if (shape.length !== 4) throw new TesseraError("theanoConvInit", `expected a conv weight shape [out, in, kh, kw], got [${shape.join(",")}]`);
  const bound = Math.sqrt(3 / fans(shape).fanIn);
  return fromDraws(shape, flippedFilters(rng.uniform(-bound, bound, count(shape)), shape[2]!, shape[3]!));
}

/** Each consecutive kh x kw filter of `values` flipped on both axes (rotated by 180 degrees). */
function flippedFilters(values: Float64Array, kh: number, kw: number): Float64Array {
  const size = kh * kw;
  const out = new Float64Array(values.length);
  for (let start = 0; start < values.length; start += size) {
    for (let k = 0; k < size; k++) out[start + k] = values[start + size - 1 - k]!;
  }
  return out;
}

/**
 * The tutorial's tanh hidden-layer init: U(±sqrt(6/(nIn+nOut))) drawn as Theano's [nIn, nOut]
 * matrix, returned transposed to our Linear layout [nOut, nIn] so the values match the tutorial's.
 */
export function tutorialHiddenInit(nIn: number, nOut: number, rng: Generator): Tensor {
  const bound = Math.sqrt(6 / (nIn + nOut));
  const drawn = rng.uniform(-bound, bound, nIn * nOut);
  const transposed = new Float64Array(nIn * nOut);
  for (let i = 0; i < nIn; i++) for (let o = 0; o < nOut; o++) transposed[o * nIn + i] = drawn[i * nOut + o]!;
  return fromDraws([nOut, nIn], transposed);
}

export { RandomState };
