import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import "@tessera/backend-cpu";
import "@tessera/autograd";
import * as T from "@tessera/tensor";
import { RandomState, TesseraError } from "@tessera/tensor";
import { LeNet5, lenet5Geometry } from "../src/index.js";
import { values } from "./helpers.js";

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

/** scripts/make-lenet-theano-conv-fixture.py's output. */
interface TheanoConvFixture {
  parameters: Array<{
    name: string;
    shape: number[];
    first: number[];
    samples: Array<{ index: number[]; value: number }>;
    sum: number;
    weightedSum: number;
  }>;
  theanoConv1: { shape: number[]; samples: Array<{ index: number[]; value: number }>; sums: number[] };
}

const fixture = JSON.parse(readFileSync(path.join(fixtures, "lenet5-init-theano-conv.json"), "utf8")) as TheanoConvFixture;

const flatIndex = (shape: readonly number[], index: readonly number[]) => index.reduce((at, i, k) => at * shape[k]! + i, 0);

describe('LeNet5 init "theano-conv" (the default): the tutorial\'s exact start', () => {
  let model: LeNet5;
  let drawn: LeNet5;
  beforeAll(() => {
    model = new LeNet5();
    drawn = new LeNet5({ init: "as-drawn" });
  });
  afterAll(() => {
    model.dispose();
    drawn.dispose();
  });

  it("is the default, and the checkpoint architecture records it", () => {
    expect(model.config.init).toBe("theano-conv");
    expect(model.architecture().config).toMatchObject({ init: "theano-conv", kernels: [20, 50], filterSize: 5, poolSize: 2, hidden: 500 });
    expect(drawn.architecture().config.init).toBe("as-drawn");
  });

  it("holds numpy's drawn filters flipped on both spatial axes (W[:, :, ::-1, ::-1]) and fc1 = W.T, as float32", () => {
    const tensors: Record<string, T.Tensor> = { "conv1.weight": model.conv1.weight, "conv2.weight": model.conv2.weight, "fc1.weight": model.fc1.weight };
    for (const want of fixture.parameters) {
      const t = tensors[want.name]!;
      expect([...t.shape], want.name).toEqual(want.shape);
      const v = t.dataSync() as Float32Array;
      expect(Array.from(v.subarray(0, want.first.length)), `${want.name} first values`).toEqual(want.first);
      for (const s of want.samples) expect(v[flatIndex(want.shape, s.index)], `${want.name}[${s.index.join(",")}]`).toBe(s.value);
      let [sum, weighted] = [0, 0];
      for (let k = 0; k < v.length; k++) {
        sum += v[k]!;
        weighted += v[k]! * ((k % 101) + 1);
      }
      expect(Math.abs(sum - want.sum), `${want.name} sum`).toBeLessThan(1e-9 * v.length);
      expect(Math.abs(weighted - want.weightedSum), `${want.name} weighted sum`).toBeLessThan(1e-7 * v.length);
    }
    for (const name of ["conv1.bias", "conv2.bias", "fc1.bias", "fc2.weight", "fc2.bias"]) {
      expect(
        values(model.stateDict().get(name)!).every((x) => x === 0),
        name,
      ).toBe(true);
    }
  });

  it('is "as-drawn" with every filter rotated by 180 degrees; fc1 and the generator are untouched', () => {
    for (const layer of ["conv1", "conv2"] as const) {
      const [out, inC, kh, kw] = model[layer].weight.shape as [number, number, number, number];
      const [a, b] = [values(model[layer].weight), values(drawn[layer].weight)];
      for (let f = 0; f < out * inC; f++)
        for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) expect(a[(f * kh + i) * kw + j]).toBe(b[(f * kh + (kh - 1 - i)) * kw + (kw - 1 - j)]);
    }
    expect(values(model.fc1.weight)).toEqual(values(drawn.fc1.weight));
    // Flipping draws nothing: both leave a shared generator in the same state.
    const [r1, r2] = [new RandomState(5), new RandomState(5)];
    const small = { kernels: [2, 3] as [number, number], hidden: 4 };
    const m1 = new LeNet5({ ...small, seed: r1 });
    const m2 = new LeNet5({ ...small, seed: r2, init: "as-drawn" });
    expect(r1.getState()).toEqual(r2.getState());
    m1.dispose();
    m2.dispose();
  });

  it("makes conv2d compute Theano's convolution of the drawn filters (numpy's FFT convolution)", async () => {
    const want = fixture.theanoConv1;
    const x = T.tensor(new RandomState(7).uniform(0, 1, 784), { shape: [1, 1, 28, 28], dtype: "float32" });
    const maps = (m: LeNet5) => T.tidy(() => T.conv2d(x, m.conv1.weight).dataSync() as Float32Array);
    const [ours, mirrored] = [maps(model), maps(drawn)];
    expect(want.shape).toEqual([20, 24, 24]);
    let worstMirrored = 0;
    for (const s of want.samples) {
      const at = flatIndex(want.shape, s.index);
      expect(Math.abs(ours[at]! - s.value), `conv1 map at ${s.index.join(",")}`).toBeLessThan(1e-5);
      worstMirrored = Math.max(worstMirrored, Math.abs(mirrored[at]! - s.value));
    }
    for (const [o, sum] of want.sums.entries()) {
      const got = ours.subarray(o * 576, (o + 1) * 576).reduce((a, b) => a + b, 0);
      expect(Math.abs(got - sum), `conv1 map ${o} sum`).toBeLessThan(2e-3);
    }
    // The mirrored start computes something else: the test can tell the two apart.
    expect(worstMirrored).toBeGreaterThan(0.1);
    x.dispose();
  });
});

describe("LeNet5's options", () => {
  it("refuses an unknown init or a size that is not a positive integer, naming it", () => {
    expect(() => new LeNet5({ init: "theano" as never })).toThrow(new TesseraError("LeNet5", 'init must be one of "theano-conv", "as-drawn", got "theano"'));
    expect(() => new LeNet5({ kernels: [0, 50] })).toThrow("LeNet5: kernels must be 2 positive integers, got [0,50]");
    expect(() => new LeNet5({ filterSize: 2.5 })).toThrow("LeNet5: filterSize must be a positive integer, got 2.5");
    expect(() => new LeNet5({ hidden: 0 })).toThrow("LeNet5: hidden must be a positive integer, got 0");
  });

  it("refuses a filter or pooling window that shrinks a feature map to nothing, naming the sizes", () => {
    expect(() => new LeNet5({ filterSize: 29 })).toThrow("LeNet5: filterSize 29 does not fit the 28x28 input (input 28x28)");
    expect(() => new LeNet5({ filterSize: 13 })).toThrow(
      "LeNet5: filterSize 13 does not fit conv2's 8x8 input (input 28x28, conv1 13x13 -> 16x16, pool 2x2 -> 8x8); use a smaller filterSize or poolSize, or a larger input",
    );
    expect(() => new LeNet5({ poolSize: 25 })).toThrow("LeNet5: poolSize 25 does not fit conv1's 24x24 feature maps (input 28x28, conv1 5x5 -> 24x24)");
    expect(() => new LeNet5({ poolSize: 5 })).toThrow("LeNet5: filterSize 5 does not fit conv2's 4x4 input (input 28x28, conv1 5x5 -> 24x24, pool 5x5 -> 4x4)");
    expect(() => new LeNet5({ poolSize: 4 })).toThrow(
      "LeNet5: poolSize 4 does not fit conv2's 2x2 feature maps (input 28x28, conv1 5x5 -> 24x24, pool 4x4 -> 6x6, conv2 5x5 -> 2x2)",
    );
    const pooledTo1x1 = new LeNet5({ poolSize: 3, kernels: [2, 3], hidden: 4 }); // 24 -> 8 -> 4 -> 1: fits
    expect(pooledTo1x1.fc1.weight.shape).toEqual([4, 3]);
    pooledTo1x1.dispose();
  });

  it("lenet5Geometry gives each stage's feature maps", () => {
    expect(lenet5Geometry({ inputShape: [1, 28, 28], kernels: [20, 50], filterSize: 5, poolSize: 2 })).toEqual({
      input: [1, 28, 28],
      conv1: [20, 24, 24],
      pool1: [20, 12, 12],
      conv2: [50, 8, 8],
      pool2: [50, 4, 4],
      flat: 800,
    });
    // A partial pooling window is dropped (ignore_border): 11x11 pooled 2x2 is 5x5.
    expect(lenet5Geometry({ inputShape: [1, 28, 28], kernels: [10, 20], filterSize: 3, poolSize: 2 })).toEqual({
      input: [1, 28, 28],
      conv1: [10, 26, 26],
      pool1: [10, 13, 13],
      conv2: [20, 11, 11],
      pool2: [20, 5, 5],
      flat: 500,
    });
    const m = new LeNet5({ kernels: [10, 20], filterSize: 3, hidden: 30 });
    expect(m.fc1.weight.shape).toEqual([30, 500]);
    m.dispose();
  });
});
