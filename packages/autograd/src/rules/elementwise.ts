import * as T from "@tessera/tensor";
import { unbroadcast } from "./broadcast.js";
import type { GradientRule } from "./types.js";

const { tidy } = T;

/** Rules for ops of one input whose gradient is dy * f'(x). */
const unary =
  (local: (x: T.Tensor, y: T.Tensor) => T.Tensor): GradientRule =>
  ({ inputs, output }, dy) => [tidy(() => T.mul(dy, local(inputs[0]!, output)))];

const zero: GradientRule = ({ inputs }) => [T.zerosLike(inputs[0]!)];

export const elementwiseRules: Record<string, GradientRule> = {
  neg: (_, dy) => [T.neg(dy)],
  abs: unary((x) => T.sign(x)),
  exp: unary((_, y) => y),
  log: ({ inputs }, dy) => [T.div(dy, inputs[0]!)],
  sqrt: ({ output }, dy) => [tidy(() => T.div(dy, T.mul(output, 2)))],
  tanh: unary((_, y) => T.sub(1, T.mul(y, y))),
  sigmoid: unary((_, y) => T.mul(y, T.sub(1, y))),
  relu: unary((x) => T.cast(T.greater(x, 0), "float32")),
  sin: unary((x) => T.cos(x)),
  cos: unary((x) => T.neg(T.sin(x))),
  sign: zero,
  floor: zero,
  ceil: zero,
  add: ({ inputs: [a, b] }, dy) => [unbroadcast(dy, a!.shape), unbroadcast(dy, b!.shape)],
  sub: ({ inputs: [a, b] }, dy) => [unbroadcast(dy, a!.shape), tidy(() => unbroadcast(T.neg(dy), b!.shape))],
  mul: ({ inputs: [a, b] }, dy) => [tidy(() => unbroadcast(T.mul(dy, b!), a!.shape)), tidy(() => unbroadcast(T.mul(dy, a!), b!.shape))],
  div: ({ inputs: [a, b], output }, dy) => [
    tidy(() => unbroadcast(T.div(dy, b!), a!.shape)),
    tidy(() => unbroadcast(T.neg(T.div(T.mul(dy, output), b!)), b!.shape)),
  ],
  pow: ({ inputs: [a, b], output }, dy) => [
    tidy(() => unbroadcast(T.mul(dy, T.mul(b!, T.pow(a!, T.sub(b!, 1)))), a!.shape)),
    // d/db a^b = a^b log a, taken as 0 where a <= 0 (where the real power is not differentiable in b).
    tidy(() => unbroadcast(T.mul(dy, T.where(T.greater(a!, 0), T.mul(output, T.log(T.maximum(a!, 1e-30))), 0)), b!.shape)),
  ],
  // Ties split the gradient evenly between both operands, as PyTorch does.
  maximum: ({ inputs: [a, b] }, dy) => tieSplit(a!, b!, dy, T.greater),
  minimum: ({ inputs: [a, b] }, dy) => tieSplit(a!, b!, dy, T.less),
  where: ({ inputs: [c, a, b] }, dy) => [null, tidy(() => unbroadcast(T.where(c!, dy, 0), a!.shape)), tidy(() => unbroadcast(T.where(c!, 0, dy), b!.shape))],
  clone: (_, dy) => [T.contiguous(dy)],
  contiguous: (_, dy) => [T.contiguous(dy)],
};

function tieSplit(a: T.Tensor, b: T.Tensor, dy: T.Tensor, wins: (a: T.Tensor, b: T.Tensor) => T.Tensor): Array<T.Tensor | null> {
  return tidy(() => {
    const share = T.add(T.cast(wins(a, b), "float32"), T.mul(T.cast(T.equal(a, b), "float32"), 0.5));
    return [unbroadcast(T.mul(dy, share), a.shape), unbroadcast(T.mul(dy, T.sub(1, share)), b.shape)];
  });
}
