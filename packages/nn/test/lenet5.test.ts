import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import "@tessera/backend-cpu";
import "@tessera/autograd";
import * as T from "@tessera/tensor";
import { RandomState } from "@tessera/tensor";
import { type RefArray, reference } from "@tessera/tensor/testing";
import { LeNet5, StateDictError, crossEntropyLoss, loadCheckpoint, loadSafetensors } from "../src/index.js";
import { LENET5_STATE_NAMES, autogradOf, randomRef, randomTensor, refAddChannelBias, refLinear, toRef, values } from "./helpers.js";

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

interface InitFixture {
  arrays: Array<{
    name: string;
    shape: number[];
    low: number;
    high: number;
    samples: Array<{ index: number[]; value: number }>;
    sum: number;
    weightedSum: number;
    min: number;
    max: number;
  }>;
}

/** Reads a tensor's values in Theano's layout: conv W as is, fc1.weight [500, 800] transposed to [800, 500]. */
function theanoLayout(v: Float32Array, shape: readonly number[], transposed: boolean): { at: (idx: number[]) => number; flat: () => Float64Array } {
  if (!transposed) {
    const strides = shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));
    return { at: (idx) => v[idx.reduce((s, i, k) => s + i * strides[k]!, 0)]!, flat: () => Float64Array.from(v) };
  }
  const [nOut, nIn] = shape as [number, number];
  return {
    at: ([i, o]) => v[o! * nIn + i!]!,
    flat: () => {
      const out = new Float64Array(nIn * nOut);
      for (let i = 0; i < nIn; i++) for (let o = 0; o < nOut; o++) out[i * nOut + o] = v[o * nIn + i]!;
      return out;
    },
  };
}

describe("LeNet5 (the tutorial's configuration)", () => {
  let model: LeNet5;
  beforeAll(() => {
    model = new LeNet5();
  });
  afterAll(() => model.dispose());

  it("has PyTorch-style parameter names and shapes", () => {
    expect([...model.stateDict()].map(([k, t]) => [k, [...t.shape]])).toEqual([
      ["conv1.weight", [20, 1, 5, 5]],
      ["conv1.bias", [20]],
      ["conv2.weight", [50, 20, 5, 5]],
      ["conv2.bias", [50]],
      ["fc1.weight", [500, 800]],
      ["fc1.bias", [500]],
      ["fc2.weight", [10, 500]],
      ["fc2.bias", [10]],
    ]);
    expect(model.parameterCount()).toBe(500 + 20 + 25000 + 50 + 400000 + 500 + 5000 + 10);
    expect(model.parameters().every((p) => p.requiresGrad && p.dtype === "float32")).toBe(true);
  });

  it('with init "as-drawn", holds conv1, conv2 and fc1 exactly as numpy.random.RandomState(23455) draws them in the tutorial', () => {
    const fixture = JSON.parse(readFileSync(path.join(fixtures, "lenet5-init.json"), "utf8")) as InitFixture;
    const drawn = new LeNet5({ init: "as-drawn" });
    const ours = [
      { name: "layer0.W", tensor: drawn.conv1.weight, transposed: false },
      { name: "layer1.W", tensor: drawn.conv2.weight, transposed: false },
      { name: "layer2.W", tensor: drawn.fc1.weight, transposed: true },
    ];
    for (const [i, { name, tensor, transposed }] of ours.entries()) {
      const want = fixture.arrays[i]!;
      expect(want.name).toBe(name);
      const shape = transposed ? [...tensor.shape].reverse() : [...tensor.shape];
      expect(shape, name).toEqual(want.shape);
      const view = theanoLayout(tensor.dataSync() as Float32Array, tensor.shape, transposed);
      for (const s of want.samples) expect(view.at(s.index), `${name}[${s.index.join(",")}]`).toBe(s.value);
      const flat = view.flat();
      let [sum, weighted, min, max] = [0, 0, Infinity, -Infinity];
      for (let k = 0; k < flat.length; k++) {
        const v = flat[k]!;
        sum += v;
        weighted += v * ((k % 101) + 1);
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      expect(Math.abs(sum - want.sum), `${name} sum`).toBeLessThan(1e-9 * flat.length);
      expect(Math.abs(weighted - want.weightedSum), `${name} weighted sum`).toBeLessThan(1e-7 * flat.length);
      expect(min, `${name} min`).toBe(want.min);
      expect(max, `${name} max`).toBe(want.max);
      expect(want.min).toBeGreaterThanOrEqual(want.low);
      expect(want.max).toBeLessThanOrEqual(want.high);
    }
    drawn.dispose();
  });

  it("starts fc2 and every bias at zero", () => {
    for (const name of ["conv1.bias", "conv2.bias", "fc1.bias", "fc2.weight", "fc2.bias"]) {
      expect(
        values(model.stateDict().get(name)!).every((v) => v === 0),
        name,
      ).toBe(true);
    }
  });

  it("starts at loss ln(10) (fc2 is zero, so the logits are all 0)", () => {
    const x = randomTensor([2, 1, 28, 28], 3, 0, 1);
    const y = T.tensor(Int32Array.from([3, 7]));
    const logits = model.forward(x);
    expect(logits.shape).toEqual([2, 10]);
    expect(values(logits).every((v) => v === 0)).toBe(true);
    const loss = crossEntropyLoss(logits, y);
    expect(loss.item()).toBeCloseTo(Math.log(10), 6);
    T.dispose([x, y, logits, loss]);
  });

  it("is deterministic: the same seed gives the same weights, another seed others", () => {
    const small = { kernels: [2, 3] as [number, number], hidden: 8 };
    const [a, b, c] = [new LeNet5(small), new LeNet5({ ...small, seed: 23455 }), new LeNet5({ ...small, seed: new RandomState(1) })];
    expect(values(a.conv1.weight)).toEqual(values(b.conv1.weight));
    expect(values(a.fc1.weight)).toEqual(values(b.fc1.weight));
    expect(values(a.conv1.weight)).not.toEqual(values(c.conv1.weight));
    // With the same seed, the first conv filters of the small model equal the big model's first draws.
    expect(values(a.conv1.weight)).toEqual(values(model.conv1.weight).slice(0, 50));
    a.dispose();
    b.dispose();
    c.dispose();
  });
});

describe("LeNet5 and the default generator", () => {
  it("building one draws nothing from the global default generator", () => {
    // Later unseeded T.rand / Dropout must not depend on whether a model was built first.
    T.seed(4242);
    const before = T.getDefaultGenerator().getState();
    const first = T.rand([5]);
    const expected = values(first);
    first.dispose();
    T.seed(4242);
    const models = [new LeNet5(), new LeNet5({ kernels: [2, 3], hidden: 8, seed: new RandomState(1) })];
    expect(T.getDefaultGenerator().getState()).toEqual(before);
    const r = T.rand([5]);
    expect(values(r)).toEqual(expected);
    r.dispose();
    for (const m of models) m.dispose();
  });
});

/** The reference forward of LeNet-5 on float64 arrays: conv → maxpool → tanh (x2), flatten, fc1 → tanh, fc2. */
function refLeNet([x, c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b]: RefArray[], pool = 2): RefArray {
  const block = (h: RefArray, w: RefArray, b: RefArray) =>
    reference.unary("tanh", reference.maxPool2d(refAddChannelBias(reference.conv2d(h, w), b), { kernel: [pool, pool] }));
  const h1 = block(block(x!, c1w!, c1b!), c2w!, c2b!);
  const flat = reference.reshape(h1, [h1.shape[0]!, -1]);
  return refLinear(reference.unary("tanh", refLinear(flat, f1w!, f1b!)), f2w!, f2b!);
}

describe("LeNet5 forward and backward", () => {
  it("matches the float64 reference, gradients included (small config, random fc2)", () => {
    const model = new LeNet5({ inputShape: [1, 12, 12], kernels: [2, 3], filterSize: 3, hidden: 5, classes: 4 });
    // fc2 and the biases start at zero; give them values so every gradient path is exercised.
    const rng = new RandomState(8);
    for (const [name, t] of model.stateDict()) {
      if (name === "fc2.weight" || name.endsWith("bias")) t.assign(T.tensor(rng.uniform(-0.5, 0.5, t.size), { shape: t.shape, dtype: "float32" }));
    }
    const x = randomTensor([2, 1, 12, 12], 6, 0, 1);
    const params = model.parameters();
    const refs = [x, ...params].map(toRef);
    const expected = refLeNet(refs);
    expect(expected.shape).toEqual([2, 4]);
    const dy = randomRef([2, 4], 5);
    const { output, grads } = autogradOf(() => model.forward(x), [x, ...params], dy);
    reference.assertClose(output, expected, { atol: 1e-5, rtol: 1e-4 }, "LeNet5 logits");
    const numeric = reference.numericGradient(refLeNet, refs, dy);
    for (const [i, g] of grads.entries()) reference.assertClose(g, numeric[i]!, { atol: 1e-4, rtol: 1e-3 }, `LeNet5 gradient ${i}`);
    x.dispose();
    model.dispose();
  });
});

describe("LeNet5 and PyTorch checkpoints", () => {
  const smallPath = path.join(fixtures, "lenet5-small.safetensors");
  const expected = JSON.parse(readFileSync(path.join(fixtures, "lenet5-small.json"), "utf8")) as {
    image: number[];
    logits: number[];
    sums: Record<string, number>;
  };

  it("loads a state dict written by an independent Python writer (PyTorch's layout) and reproduces its logits", async () => {
    const model = new LeNet5({ kernels: [2, 3], hidden: 8 });
    const { metadata } = await loadCheckpoint(smallPath, model);
    expect(metadata).toEqual({ format: "pt" });
    for (const [name, t] of model.stateDict()) {
      const s = values(t).reduce((a, b) => a + b, 0);
      expect(s, name).toBeCloseTo(expected.sums[name]!, 9);
    }
    // conv1.weight[0, 0, 0, :] = ((k·37 + 0·11) % 63 - 31)·0.5/32 for k = 0..4, as the script writes.
    expect(values(model.conv1.weight).slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((k) => ((((k * 37) % 63) - 31) * 0.5) / 32));
    const x = T.tensor(Float32Array.from(expected.image), { shape: [1, 1, 28, 28] });
    const logits = model.forward(x);
    reference.assertClose(values(logits), expected.logits, { atol: 1e-5, rtol: 1e-4 }, "logits vs the Python forward");
    T.dispose([x, logits]);
    model.dispose();
  });

  it("refuses it for the tutorial-sized model, naming every shape mismatch", async () => {
    const { tensors } = await loadSafetensors(smallPath);
    expect([...tensors.keys()].sort()).toEqual(LENET5_STATE_NAMES);
    const model = new LeNet5({ kernels: [2, 3], hidden: 9 });
    const before = values(model.fc1.weight);
    const err = await loadCheckpoint(smallPath, model).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateDictError);
    expect((err as StateDictError).mismatched.map((m) => m.name)).toEqual(["fc1.weight", "fc1.bias", "fc2.weight"]);
    expect((err as Error).message).toContain("fc1.weight expects [9,48] but got [8,48]");
    expect(values(model.fc1.weight)).toEqual(before);
    model.dispose();
  });
});
