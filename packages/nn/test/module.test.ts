import { describe, expect, it } from "vitest";
import "@tessera/backend-cpu";
import "@tessera/autograd";
import * as T from "@tessera/tensor";
import { RandomState, type Tensor } from "@tessera/tensor";
import { Conv2d, Dropout, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential, StateDictError, Tanh, parameter } from "../src/index.js";
import { randomTensor, values } from "./helpers.js";

/** A small model with a nested block, an array of layers and a buffer. */
class Block extends Module {
  fc: Linear;
  act = new Tanh();
  constructor(rng: RandomState) {
    super();
    this.fc = new Linear(3, 3, { generator: rng });
  }
  forward(x: Tensor): Tensor {
    return T.tidy(() => this.act.forward(this.fc.forward(x)));
  }
}

class Net extends Module {
  stem: Conv2d;
  blocks: Block[];
  scale: Tensor;
  head: Linear;
  steps: Tensor;
  constructor(seed = 0) {
    super();
    const rng = new RandomState(seed);
    this.stem = new Conv2d(1, 2, 2, { generator: rng });
    this.blocks = [new Block(rng), new Block(rng)];
    this.scale = parameter(T.ones([3]));
    this.head = new Linear(3, 2, { bias: false, generator: rng });
    this.steps = this.registerBuffer("steps", T.zeros([1]));
  }
  forward(x: Tensor): Tensor {
    return T.tidy(() => {
      let h = T.mul(x, this.scale);
      for (const b of this.blocks) h = b.forward(h);
      return this.head.forward(h);
    });
  }
}

function shapesOf(m: Module): Record<string, number[]> {
  return Object.fromEntries([...m.stateDict()].map(([k, t]) => [k, [...t.shape]]));
}

describe("Module naming", () => {
  it("names parameters by field path, arrays by index, in declaration order", () => {
    const net = new Net();
    expect([...net.namedParameters()].map(([n, p]) => [n, [...p.shape]])).toEqual([
      ["scale", [3]],
      ["stem.weight", [2, 1, 2, 2]],
      ["stem.bias", [2]],
      ["blocks.0.fc.weight", [3, 3]],
      ["blocks.0.fc.bias", [3]],
      ["blocks.1.fc.weight", [3, 3]],
      ["blocks.1.fc.bias", [3]],
      ["head.weight", [2, 3]],
    ]);
    expect([...net.namedChildren()].map(([n]) => n)).toEqual(["stem", "blocks.0", "blocks.1", "head"]);
    expect(net.parameters()).toHaveLength(8);
    expect(net.parameterCount()).toBe(3 + 8 + 2 + 2 * 12 + 6);
    net.dispose();
  });

  it("keeps a frozen parameter (requiresGrad = false) in the state dict, as PyTorch does", () => {
    // Freezing a layer for fine-tuning must not drop it from checkpoints or make a full
    // checkpoint unloadable ("unexpected keys").
    const net = new Sequential(new Linear(2, 3), new Tanh(), new Linear(3, 1));
    const full = new Map(net.stateDict());
    const [frozen] = net.layers as [Linear];
    frozen.weight.requiresGrad = false;
    frozen.bias!.requiresGrad = false;
    expect([...net.stateDict().keys()]).toEqual(["0.weight", "0.bias", "2.weight", "2.bias"]);
    expect(() => net.loadStateDict(full)).not.toThrow();
    net.dispose();
  });

  it("keeps buffers in the state dict but out of the parameters", () => {
    const net = new Net();
    expect([...net.namedBuffers()].map(([n]) => n)).toEqual(["steps"]);
    expect(net.parameters()).not.toContain(net.steps);
    expect([...net.stateDict().keys()]).toEqual([
      "scale",
      "stem.weight",
      "stem.bias",
      "blocks.0.fc.weight",
      "blocks.0.fc.bias",
      "blocks.1.fc.weight",
      "blocks.1.fc.bias",
      "head.weight",
      "steps",
    ]);
    // The state dict holds the tensors themselves, not copies.
    expect(net.stateDict().get("head.weight")).toBe(net.head.weight);
    net.dispose();
  });

  it("Sequential names children by index, like PyTorch (0.weight, 2.bias ...)", () => {
    const net = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2), new Sequential(new Tanh(), new Linear(2, 2)));
    expect(Object.keys(shapesOf(net))).toEqual(["0.weight", "0.bias", "2.weight", "2.bias", "3.1.weight", "3.1.bias"]);
    expect(shapesOf(net)["2.weight"]).toEqual([2, 3]);
    expect([...net.namedChildren()].map(([n]) => n)).toEqual(["0", "1", "2", "3"]);
    net.dispose();
  });
});

describe("the README's model", () => {
  class ReadmeNet extends Module {
    features = new Sequential(new Conv2d(1, 8, 3), new ReLU(), new MaxPool2d(2), new Flatten());
    head = new Linear(8 * 13 * 13, 10);
    forward(x: Tensor): Tensor {
      return T.tidy(() => this.head.forward(this.features.forward(x)));
    }
  }

  it("has the names the README shows and runs on 28x28 images", () => {
    const net = new ReadmeNet();
    expect([...net.stateDict().keys()]).toEqual(["features.0.weight", "features.0.bias", "head.weight", "head.bias"]);
    const x = T.zeros([2, 1, 28, 28]);
    const y = net.forward(x);
    expect(y.shape).toEqual([2, 10]);
    T.dispose([x, y]);
    net.dispose();
  });
});

describe("train / eval / zeroGrad", () => {
  it("train(false) and eval() reach every submodule, train() switches back", () => {
    const drop = new Dropout(0.5);
    const inner = new Sequential(new Linear(2, 2), drop);
    const net = new Sequential(inner, new Tanh());
    expect(net.training && inner.training && drop.training).toBe(true);
    expect(net.eval()).toBe(net);
    expect([net.training, inner.training, drop.training]).toEqual([false, false, false]);
    net.train();
    expect([net.training, inner.training, drop.training]).toEqual([true, true, true]);
    net.train(false);
    expect(drop.training).toBe(false);
    net.dispose();
  });

  it("zeroGrad clears every parameter's gradient", () => {
    const net = new Net();
    const x = randomTensor([2, 3], 1);
    T.tidy(() => T.sum(net.forward(x)).backward());
    const withGrad = [...net.namedParameters()].filter(([, p]) => p.grad).map(([n]) => n);
    // stem is not used by forward; everything else receives a gradient.
    expect(withGrad).toEqual(["scale", "blocks.0.fc.weight", "blocks.0.fc.bias", "blocks.1.fc.weight", "blocks.1.fc.bias", "head.weight"]);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
    x.dispose();
    net.dispose();
  });
});

describe("stateDict / loadStateDict", () => {
  it("round-trips values between two models (copying, not aliasing)", () => {
    const a = new Net(1);
    const b = new Net(2);
    expect(values(a.head.weight)).not.toEqual(values(b.head.weight));
    b.loadStateDict(a.stateDict());
    for (const [k, t] of a.stateDict()) expect(values(b.stateDict().get(k)!), k).toEqual(values(t));
    expect(b.head.weight).not.toBe(a.head.weight);
    // Parameters stay parameters after loading.
    expect(b.parameters().every((p) => p.requiresGrad)).toBe(true);
    // Changing a afterwards does not change b.
    const before = values(b.scale);
    a.scale.assign(T.full([3], 5));
    expect(values(b.scale)).toEqual(before);
    a.dispose();
    b.dispose();
  });

  it("accepts a plain object and casts int32 values to the parameter's dtype", () => {
    const fc = new Linear(2, 2, { bias: false });
    const w = T.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "int32" },
    );
    fc.loadStateDict({ weight: w });
    expect(fc.weight.dtype).toBe("float32");
    expect(values(fc.weight)).toEqual([1, 2, 3, 4]);
    w.dispose();
    fc.dispose();
  });

  it("lists missing, unexpected and mismatched keys in one error, and changes nothing", () => {
    const net = new Net();
    const before = Object.fromEntries([...net.stateDict()].map(([k, t]) => [k, values(t)]));
    const state = new Map<string, Tensor>();
    for (const [k, t] of net.stateDict()) {
      if (k === "stem.bias" || k === "steps") continue; // missing
      state.set(k, k === "head.weight" ? T.zeros([3, 2]) : k === "scale" ? T.zeros([1, 3]) : T.zerosLike(t));
    }
    state.set("head.bias", T.zeros([2])); // unexpected
    state.set("blocks.2.fc.weight", T.zeros([3, 3])); // unexpected
    let err: unknown;
    try {
      net.loadStateDict(state);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDictError);
    const e = err as StateDictError;
    expect(e.missing).toEqual(["stem.bias", "steps"]);
    expect(e.unexpected).toEqual(["head.bias", "blocks.2.fc.weight"]);
    expect(e.mismatched).toEqual([
      { name: "scale", expected: [3], got: [1, 3] },
      { name: "head.weight", expected: [2, 3], got: [3, 2] },
    ]);
    expect(e.message).toContain("missing keys: stem.bias, steps");
    expect(e.message).toContain("unexpected keys: head.bias, blocks.2.fc.weight");
    expect(e.message).toContain("shape mismatches: scale expects [3] but got [1,3]; head.weight expects [2,3] but got [3,2]");
    expect(e.message.startsWith("loadStateDict: missing keys")).toBe(true);
    // Nothing was loaded, not even the keys that matched.
    for (const [k, t] of net.stateDict()) expect(values(t), k).toEqual(before[k]);
    T.dispose([...state.values()]);
    net.dispose();
  });

  it("reports only what is wrong", () => {
    const fc = new Linear(2, 3);
    const w = T.zeros([3, 2]);
    expect(() => fc.loadStateDict({ weight: w })).toThrow(/^loadStateDict: missing keys: bias$/);
    try {
      fc.loadStateDict({ weight: w });
    } catch (e) {
      expect((e as StateDictError).unexpected).toEqual([]);
      expect((e as StateDictError).mismatched).toEqual([]);
      expect((e as Error).message).not.toMatch(/unexpected|mismatch/);
    }
    w.dispose();
    fc.dispose();
  });

  it("strict: false ignores missing and unexpected keys but never shape mismatches", () => {
    const fc = new Linear(2, 3, { generator: new RandomState(1) });
    const bias = values(fc.bias!);
    const w = T.ones([3, 2]);
    const extra = T.ones([7]);
    fc.loadStateDict({ weight: w, extra }, { strict: false });
    expect(values(fc.weight)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(values(fc.bias!)).toEqual(bias);
    const bad = T.ones([2, 3]);
    let err: StateDictError | undefined;
    try {
      fc.loadStateDict({ weight: bad, extra }, { strict: false });
    } catch (e) {
      err = e as StateDictError;
    }
    expect(err).toBeInstanceOf(StateDictError);
    expect(err!.missing).toEqual([]);
    expect(err!.unexpected).toEqual([]);
    expect(err!.mismatched).toEqual([{ name: "weight", expected: [3, 2], got: [2, 3] }]);
    T.dispose([w, extra, bad]);
    fc.dispose();
  });

  it("loads a model's own state dict into itself", () => {
    const net = new Sequential(new Conv2d(1, 2, 3), new MaxPool2d(2), new Flatten(), new Linear(2, 2));
    const before = values(net.stateDict().get("0.weight")!);
    net.loadStateDict(net.stateDict());
    expect(values(net.stateDict().get("0.weight")!)).toEqual(before);
    net.dispose();
  });
});
