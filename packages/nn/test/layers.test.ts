import { describe, expect, it } from "vitest";
import "@tessera/backend-cpu";
import { noGrad } from "@tessera/autograd";
import * as T from "@tessera/tensor";
import { RandomState, type Tensor } from "@tessera/tensor";
import { type RefArray, reference } from "@tessera/tensor/testing";
import { AvgPool2d, Conv2d, Dense, Dropout, Flatten, Linear, LogSoftmax, MaxPool2d, Module, ReLU, Sequential, Sigmoid, Softmax, Tanh } from "../src/index.js";
import { autogradOf, randomRef, randomTensor, refAddChannelBias, refLinear, toRef, values } from "./helpers.js";

const FWD = { atol: 1e-5, rtol: 1e-5 };
const GRAD = { atol: 2e-4, rtol: 1e-3 };

/**
 * Checks a layer: its forward on `x` against `refForward` (float64, on the same float32 values),
 * and the gradients autograd gives the input and each parameter against central differences of
 * `refForward` (L = sum(y * dy) with a fixed random dy).
 */
function checkLayer(name: string, forward: (x: Tensor) => Tensor, x: Tensor, params: Tensor[], refForward: (inputs: RefArray[]) => RefArray): void {
  const inputs = [x, ...params];
  const refs = inputs.map(toRef);
  const expected = refForward(refs);
  const dy = randomRef(expected.shape, 99);
  const { output, grads } = autogradOf(() => forward(x), inputs, dy);
  reference.assertClose(output, expected, FWD, `${name} forward`);
  const numeric = reference.numericGradient(refForward, refs, dy);
  for (const [i, g] of grads.entries()) reference.assertClose(g, numeric[i]!, GRAD, `${name} gradient of input ${i}`);
}

describe("Conv2d", () => {
  const cases: Array<{ label: string; cin: number; cout: number; k: number | [number, number]; opts: ConstructorParameters<typeof Conv2d>[3]; x: number[] }> = [
    { label: "3x3 valid", cin: 3, cout: 4, k: 3, opts: {}, x: [2, 3, 6, 5] },
    { label: "stride 2, padding 1, 2x3 kernel", cin: 2, cout: 3, k: [2, 3], opts: { stride: 2, padding: 1 }, x: [2, 2, 5, 6] },
    { label: "dilation 2", cin: 2, cout: 2, k: 2, opts: { dilation: 2 }, x: [1, 2, 5, 5] },
    { label: "groups 2, no bias", cin: 4, cout: 2, k: 3, opts: { groups: 2, bias: false }, x: [2, 4, 4, 4] },
  ];
  for (const c of cases) {
    it(`forward and gradients match the float64 reference (${c.label})`, () => {
      const conv = new Conv2d(c.cin, c.cout, c.k, { ...c.opts, generator: new RandomState(7) });
      const x = randomTensor(c.x, 1);
      const o = conv.options;
      const pair = (v: T.Pair): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[1]]);
      const params = { stride: pair(o.stride), padding: pair(o.padding), dilation: pair(o.dilation), groups: o.groups };
      const ps = conv.bias ? [conv.weight, conv.bias] : [conv.weight];
      checkLayer(
        `Conv2d ${c.label}`,
        (t) => conv.forward(t),
        x,
        ps,
        ([xr, w, b]) => {
          const y = reference.conv2d(xr!, w!, params);
          return b ? refAddChannelBias(y, b) : y;
        },
      );
      x.dispose();
      conv.dispose();
    });
  }

  it("has PyTorch's parameter layout and default init bounds", () => {
    const conv = new Conv2d(3, 8, [5, 4]);
    expect(conv.weight.shape).toEqual([8, 3, 5, 4]);
    expect(conv.bias!.shape).toEqual([8]);
    expect([...conv.namedParameters()].map(([n]) => n)).toEqual(["weight", "bias"]);
    const bound = 1 / Math.sqrt(3 * 5 * 4); // kaiming_uniform(a=√5) and the bias rule both give 1/sqrt(fan_in)
    for (const t of [conv.weight, conv.bias!]) {
      const v = values(t);
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(bound * 0.5);
    }
    const noBias = new Conv2d(2, 2, 3, { bias: false });
    expect(noBias.bias).toBeNull();
    expect([...noBias.namedParameters()].map(([n]) => n)).toEqual(["weight"]);
    conv.dispose();
    noBias.dispose();
  });

  it("is deterministic for a given generator", () => {
    const a = new Conv2d(2, 3, 3, { generator: new RandomState(5) });
    const b = new Conv2d(2, 3, 3, { generator: new RandomState(5) });
    expect(values(a.weight)).toEqual(values(b.weight));
    expect(values(a.bias!)).toEqual(values(b.bias!));
    a.dispose();
    b.dispose();
  });

  it("takes given initial weight and bias as its parameters, drawing nothing from any generator", () => {
    const rng = new RandomState(5);
    const before = rng.getState();
    T.seed(11);
    const defaultBefore = T.getDefaultGenerator().getState();
    const w = randomTensor([3, 2, 3, 3], 1);
    const b = T.tensor(Float32Array.from([0.1, 0.2, 0.3]));
    const conv = new Conv2d(2, 3, 3, { weight: w, bias: b, generator: rng });
    expect(conv.weight).toBe(w);
    expect(conv.bias).toBe(b);
    expect(w.requiresGrad && b.requiresGrad).toBe(true);
    expect([...conv.stateDict().keys()]).toEqual(["weight", "bias"]);
    expect(rng.getState()).toEqual(before);
    const noBias = new Conv2d(2, 3, 3, { weight: randomTensor([3, 2, 3, 3], 2), bias: false });
    expect(noBias.bias).toBeNull();
    expect(T.getDefaultGenerator().getState()).toEqual(defaultBefore);
    conv.dispose();
    noBias.dispose();
  });

  it("refuses initial values of the wrong shape or dtype, naming the layer and both shapes", () => {
    const [w, wide, ints, b] = [T.zeros([3, 2, 3, 3]), T.zeros([3, 2, 5, 5]), T.zeros([3, 2, 3, 3], { dtype: "int32" }), T.zeros([4])];
    expect(() => new Conv2d(2, 3, 3, { weight: wide })).toThrow("Conv2d: initial weight has shape [3,2,5,5] but the layer needs [3,2,3,3]");
    expect(() => new Conv2d(2, 3, 3, { weight: w, bias: b })).toThrow("Conv2d: initial bias has shape [4] but the layer needs [3]");
    expect(() => new Conv2d(2, 3, 3, { weight: ints })).toThrow("Conv2d: initial weight has dtype int32 but the layer needs float32");
    T.dispose([w, wide, ints, b]);
  });

  it("rejects bad channel counts and groups", () => {
    expect(() => new Conv2d(0, 2, 3)).toThrow(/inChannels must be a positive integer, got 0/);
    expect(() => new Conv2d(2, 1.5, 3)).toThrow(/outChannels must be a positive integer, got 1.5/);
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(/must be divisible by groups 2/);
  });

  it("reports an input with the wrong channel count", () => {
    const conv = new Conv2d(3, 2, 3);
    const x = T.zeros([1, 2, 5, 5]);
    expect(() => conv.forward(x)).toThrow(/channels/);
    x.dispose();
    conv.dispose();
  });
});

describe("Linear", () => {
  it("forward and gradients match the float64 reference", () => {
    const fc = new Linear(5, 3, { generator: new RandomState(3) });
    const x = randomTensor([4, 5], 2);
    checkLayer(
      "Linear",
      (t) => fc.forward(t),
      x,
      [fc.weight, fc.bias!],
      ([xr, w, b]) => refLinear(xr!, w!, b),
    );
    x.dispose();
    fc.dispose();
  });

  it("works without bias and on extra leading dims", () => {
    const fc = new Linear(4, 2, { bias: false, generator: new RandomState(4) });
    expect(fc.bias).toBeNull();
    const x = randomTensor([2, 3, 4], 5);
    checkLayer(
      "Linear (no bias, rank 3)",
      (t) => fc.forward(t),
      x,
      [fc.weight],
      ([xr, w]) => refLinear(xr!, w!),
    );
    x.dispose();
    fc.dispose();
  });

  it("has weight [out, in], PyTorch's default init bounds, and Dense is Linear", () => {
    const fc = new Dense(16, 4);
    expect(fc).toBeInstanceOf(Linear);
    expect(fc.weight.shape).toEqual([4, 16]);
    expect(fc.bias!.shape).toEqual([4]);
    for (const t of [fc.weight, fc.bias!]) expect(Math.max(...values(t).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(16));
    fc.dispose();
  });

  it("takes given initial weight and bias, drawing nothing from the default generator", () => {
    T.seed(12);
    const before = T.getDefaultGenerator().getState();
    const [w, b] = [randomTensor([3, 5], 1), T.zeros([3])];
    const fc = new Linear(5, 3, { weight: w, bias: b });
    expect(fc.weight).toBe(w);
    expect(fc.bias).toBe(b);
    expect(T.getDefaultGenerator().getState()).toEqual(before);
    const [transposed, long] = [T.zeros([5, 3]), T.zeros([5])];
    expect(() => new Linear(5, 3, { weight: transposed })).toThrow("Linear: initial weight has shape [5,3] but the layer needs [3,5]");
    expect(() => new Linear(5, 3, { weight: w, bias: long })).toThrow("Linear: initial bias has shape [5] but the layer needs [3]");
    T.dispose([transposed, long]);
    fc.dispose();
  });

  it("names the feature count on a mismatched input", () => {
    const fc = new Linear(5, 3);
    const x = T.zeros([2, 4]);
    expect(() => fc.forward(x)).toThrow(/input has 4 features but the layer expects 5 \(input \[2,4\]\)/);
    expect(() => new Linear(0, 3)).toThrow(/inFeatures must be a positive integer, got 0/);
    x.dispose();
    fc.dispose();
  });
});

describe("pooling", () => {
  it("MaxPool2d 2x2 forward and gradient match the reference", () => {
    const pool = new MaxPool2d(2);
    const x = randomTensor([2, 3, 6, 4], 11);
    checkLayer(
      "MaxPool2d",
      (t) => pool.forward(t),
      x,
      [],
      ([xr]) => reference.maxPool2d(xr!, { kernel: [2, 2] }),
    );
    x.dispose();
  });

  it("MaxPool2d with stride, padding and ignoreBorder: false (ceil mode) matches the reference", () => {
    const x = randomTensor([1, 2, 7, 5], 12);
    const strided = new MaxPool2d(3, { stride: 2, padding: 1 });
    checkLayer(
      "MaxPool2d strided",
      (t) => strided.forward(t),
      x,
      [],
      ([xr]) => reference.maxPool2d(xr!, { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }),
    );
    const keepBorder = new MaxPool2d(2, { ignoreBorder: false });
    const y = keepBorder.forward(x);
    expect(y.shape).toEqual([1, 2, 4, 3]); // Theano's ignore_border=False keeps the partial windows
    y.dispose();
    checkLayer(
      "MaxPool2d ceil",
      (t) => keepBorder.forward(t),
      x,
      [],
      ([xr]) => reference.maxPool2d(xr!, { kernel: [2, 2], ceilMode: true }),
    );
    x.dispose();
  });

  it("AvgPool2d forward and gradient match the reference", () => {
    const x = randomTensor([2, 2, 5, 6], 13);
    const pool = new AvgPool2d([2, 3]);
    checkLayer(
      "AvgPool2d",
      (t) => pool.forward(t),
      x,
      [],
      ([xr]) => reference.avgPool2d(xr!, { kernel: [2, 3] }),
    );
    const padded = new AvgPool2d(3, { stride: 2, padding: 1 });
    checkLayer(
      "AvgPool2d padded",
      (t) => padded.forward(t),
      x,
      [],
      ([xr]) => reference.avgPool2d(xr!, { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }),
    );
    x.dispose();
  });

  it("pooling layers have no parameters", () => {
    expect(new MaxPool2d(2).parameters()).toEqual([]);
    expect(new AvgPool2d(2).parameters()).toEqual([]);
  });
});

describe("activations and Flatten", () => {
  const x = () => randomTensor([3, 5], 21, -3, 3);
  const cases: Array<[string, () => { forward(t: Tensor): Tensor }, (r: RefArray) => RefArray]> = [
    ["Tanh", () => new Tanh(), (r) => reference.unary("tanh", r)],
    ["Sigmoid", () => new Sigmoid(), (r) => reference.unary("sigmoid", r)],
    ["Softmax", () => new Softmax(), (r) => reference.softmax(r, -1)],
    ["Softmax(axis 0)", () => new Softmax(0), (r) => reference.softmax(r, 0)],
    ["LogSoftmax", () => new LogSoftmax(), (r) => reference.logSoftmax(r, -1)],
    ["LogSoftmax(axis 0)", () => new LogSoftmax(0), (r) => reference.logSoftmax(r, 0)],
  ];
  for (const [name, make, ref] of cases) {
    it(`${name} forward and gradient match the reference`, () => {
      const t = x();
      const layer = make();
      checkLayer(
        name,
        (v) => layer.forward(v),
        t,
        [],
        ([r]) => ref(r!),
      );
      t.dispose();
    });
  }

  it("ReLU forward and gradient match the reference (away from the kink)", () => {
    // Values kept away from 0, where the derivative is not defined.
    const t = T.tensor([
      [-2, -0.5, 0.25, 1.5],
      [3, -1, 0.75, -0.125],
    ]);
    const layer = new ReLU();
    checkLayer(
      "ReLU",
      (v) => layer.forward(v),
      t,
      [],
      ([r]) => reference.unary("relu", r!),
    );
    t.dispose();
  });

  it("Flatten keeps the batch dim by default and flattens a chosen range", () => {
    const t = randomTensor([2, 3, 4, 5], 22);
    const flat = new Flatten();
    const y = flat.forward(t);
    expect(y.shape).toEqual([2, 60]);
    expect(values(y)).toEqual(values(t));
    y.dispose();
    const mid = new Flatten(1, 2).forward(t);
    expect(mid.shape).toEqual([2, 12, 5]);
    mid.dispose();
    checkLayer(
      "Flatten",
      (v) => flat.forward(v),
      t,
      [],
      ([r]) => reference.reshape(r!, [2, 60]),
    );
    t.dispose();
  });
});

describe("Dropout", () => {
  it("in training zeroes about p of the elements and scales the rest by 1/(1-p)", () => {
    const p = 0.3;
    const drop = new Dropout(p, new RandomState(1));
    const x = T.ones([100, 100]);
    const y = drop.forward(x);
    const v = values(y);
    const zeros = v.filter((e) => e === 0).length;
    expect(zeros / v.length).toBeGreaterThan(p - 0.03);
    expect(zeros / v.length).toBeLessThan(p + 0.03);
    const kept = new Set(v.filter((e) => e !== 0));
    expect([...kept]).toEqual([Math.fround(1 / (1 - p))]);
    // The expectation is preserved.
    expect(v.reduce((a, b) => a + b, 0) / v.length).toBeCloseTo(1, 1);
    y.dispose();
    x.dispose();
  });

  it("draws a new mask each call, reproducibly from its generator", () => {
    const x = T.ones([4, 8]);
    const a = new Dropout(0.5, new RandomState(3));
    const b = new Dropout(0.5, new RandomState(3));
    const [a1, a2, b1] = [a.forward(x), a.forward(x), b.forward(x)];
    expect(values(a1)).toEqual(values(b1));
    expect(values(a1)).not.toEqual(values(a2));
    T.dispose([a1, a2, b1, x]);
  });

  it("is the identity in eval mode and with p = 0 (returning a new tensor)", () => {
    const x = randomTensor([3, 4], 5);
    const drop = new Dropout(0.5).eval();
    expect(drop.training).toBe(false);
    const y = drop.forward(x);
    expect(y).not.toBe(x);
    expect(values(y)).toEqual(values(x));
    const z = new Dropout(0).forward(x);
    expect(values(z)).toEqual(values(x));
    drop.train();
    const w = drop.forward(x);
    expect(values(w)).not.toEqual(values(x));
    T.dispose([x, y, z, w]);
  });

  it("passes gradients only through kept elements, scaled by 1/(1-p)", () => {
    const x = randomTensor([5, 6], 8);
    x.requiresGrad = true;
    const drop = new Dropout(0.25, new RandomState(9));
    const y = drop.forward(x);
    const loss = T.sum(y);
    loss.backward();
    const out = values(y);
    const g = values(x.grad!);
    for (const [i, e] of out.entries()) expect(g[i]).toBeCloseTo(e === 0 ? 0 : 1 / 0.75, 6);
    T.dispose([x, y, loss]);
  });

  it("rejects p outside [0, 1)", () => {
    expect(() => new Dropout(1)).toThrow(/p must be in \[0, 1\), got 1/);
    expect(() => new Dropout(-0.1)).toThrow(/p must be in \[0, 1\), got -0.1/);
    expect(() => new Dropout(Number.NaN)).toThrow(/p must be in \[0, 1\)/);
  });
});

describe("Sequential", () => {
  it("runs layers in order; forward and gradients match the reference composition", () => {
    const rng = new RandomState(31);
    const net = new Sequential(new Conv2d(1, 2, 3, { generator: rng }), new MaxPool2d(2), new Tanh(), new Flatten(), new Linear(8, 3, { generator: rng }));
    const x = randomTensor([2, 1, 6, 6], 32);
    const [c, , , , l] = net.layers as [Conv2d, MaxPool2d, Tanh, Flatten, Linear];
    checkLayer(
      "Sequential",
      (t) => net.forward(t),
      x,
      [c.weight, c.bias!, l.weight, l.bias!],
      ([xr, cw, cb, lw, lb]) => {
        const h = reference.unary("tanh", reference.maxPool2d(refAddChannelBias(reference.conv2d(xr!, cw!), cb!), { kernel: [2, 2] }));
        return refLinear(reference.reshape(h, [2, 8]), lw!, lb);
      },
    );
    x.dispose();
    net.dispose();
  });

  it("tolerates a layer that returns its input unchanged (an identity, like PyTorch's nn.Identity)", () => {
    class Identity extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const rng = new RandomState(2);
    const net = new Sequential(new Linear(3, 4, { generator: rng }), new Identity(), new Tanh(), new Identity());
    const x = randomTensor([2, 3], 3);
    const y = net.forward(x);
    const [fc] = net.layers as [Linear];
    reference.assertClose(values(y), reference.unary("tanh", refLinear(toRef(x), toRef(fc.weight), toRef(fc.bias!))), FWD, "Sequential with identities");
    const first = new Sequential(new Identity(), new Linear(3, 4, { generator: new RandomState(2) })).forward(x);
    expect(values(first)).toEqual(values(T.tidy(() => fc.forward(x))));
    T.dispose([x, y, first]);
    net.dispose();
  });

  it("with no layers returns a copy of its input", () => {
    const x = randomTensor([2, 2], 1);
    const y = new Sequential().forward(x);
    expect(y).not.toBe(x);
    expect(values(y)).toEqual(values(x));
    T.dispose([x, y]);
  });

  it("frees its intermediates", () => {
    const net = new Sequential(new Linear(4, 4), new Tanh(), new Linear(4, 2), new ReLU());
    const x = randomTensor([3, 4], 1);
    const before = T.memory().tensors;
    const y = noGrad(() => net.forward(x));
    expect(T.memory().tensors).toBe(before + 1);
    T.dispose([x, y]);
    net.dispose();
  });
});
