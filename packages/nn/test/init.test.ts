import { describe, expect, it } from "vitest";
import "@tessera/backend-cpu";
import "@tessera/autograd";
import { RandomState, type Tensor } from "@tessera/tensor";
import { init } from "../src/index.js";
import { values } from "./helpers.js";

function stats(t: Tensor): { mean: number; std: number; maxAbs: number } {
  const v = values(t);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { mean, std, maxAbs: Math.max(...v.map(Math.abs)) };
}

describe("init", () => {
  it("fans follow PyTorch: Linear [out, in], Conv [out, in, kh, kw]", () => {
    expect(init.fans([4, 3])).toEqual({ fanIn: 3, fanOut: 4 });
    expect(init.fans([20, 1, 5, 5])).toEqual({ fanIn: 25, fanOut: 500 });
    expect(init.fans([50, 20, 5, 3])).toEqual({ fanIn: 300, fanOut: 750 });
    expect(() => init.fans([7])).toThrow("init: fan-in needs a weight of rank >= 2, got [7]");
  });

  it("uniform draws numpy's RandomState.uniform values, in row-major order, as float32", () => {
    const t = init.uniform([2, 3], -2, 5, new RandomState(42));
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe("float32");
    expect(t.requiresGrad).toBe(false);
    expect(values(t)).toEqual(Array.from(new RandomState(42).uniform(-2, 5, 6), Math.fround));
    // numpy.random.RandomState(42).uniform(-2, 5, 6)[0] == 0.6217808...
    expect(values(t)[0]).toBeCloseTo(0.621780831931538, 6);
    t.dispose();
  });

  it("normal draws numpy's RandomState.normal values", () => {
    const t = init.normal([1000], 3, 0.5, new RandomState(1));
    expect(values(t).slice(0, 5)).toEqual(Array.from(new RandomState(1).normal(3, 0.5, 5), Math.fround));
    const s = stats(t);
    expect(s.mean).toBeCloseTo(3, 1);
    expect(s.std).toBeGreaterThan(0.45);
    expect(s.std).toBeLessThan(0.55);
    t.dispose();
  });

  it("xavier and kaiming bounds and standard deviations", () => {
    const shape = [64, 32, 3, 3]; // fanIn 288, fanOut 576
    const rng = new RandomState(0);
    const cases: Array<[string, Tensor, number, "bound" | "std"]> = [
      ["xavierUniform", init.xavierUniform(shape, rng), Math.sqrt(6 / (288 + 576)), "bound"],
      ["xavierUniform gain 2", init.xavierUniform(shape, rng, 2), 2 * Math.sqrt(6 / (288 + 576)), "bound"],
      ["kaimingUniform", init.kaimingUniform(shape, rng), Math.sqrt(6 / 288), "bound"],
      ["xavierNormal", init.xavierNormal(shape, rng), Math.sqrt(2 / (288 + 576)), "std"],
      ["kaimingNormal", init.kaimingNormal(shape, rng), Math.sqrt(2 / 288), "std"],
    ];
    for (const [name, t, target, kind] of cases) {
      const s = stats(t);
      expect(Math.abs(s.mean), name).toBeLessThan(target * 0.05);
      if (kind === "bound") {
        expect(s.maxAbs, name).toBeLessThanOrEqual(target);
        expect(s.maxAbs, name).toBeGreaterThan(target * 0.99);
        expect(s.std / (target / Math.sqrt(3)), name).toBeCloseTo(1, 1); // U(-b, b) has std b/√3
      } else {
        expect(s.std / target, name).toBeCloseTo(1, 1);
      }
      t.dispose();
    }
  });

  it("tutorialConvInit is U(±sqrt(3/fanIn)) drawn in [out, in, kh, kw] order", () => {
    const t = init.tutorialConvInit([4, 2, 3, 3], new RandomState(9));
    const b = Math.sqrt(3 / 18);
    expect(values(t)).toEqual(Array.from(new RandomState(9).uniform(-b, b, 72), Math.fround));
    t.dispose();
  });

  it("theanoConvInit is tutorialConvInit with every kh x kw filter flipped on both axes (non-square too)", () => {
    const shape = [2, 3, 2, 3];
    const [flipped, drawn] = [init.theanoConvInit(shape, new RandomState(9)), init.tutorialConvInit(shape, new RandomState(9))];
    const [a, b] = [values(flipped), values(drawn)];
    for (let f = 0; f < 6; f++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expect(a[f * 6 + i * 3 + j]).toBe(b[f * 6 + (1 - i) * 3 + (2 - j)]);
    expect(() => init.theanoConvInit([4, 5], new RandomState(1))).toThrow("theanoConvInit: expected a conv weight shape [out, in, kh, kw], got [4,5]");
    flipped.dispose();
    drawn.dispose();
  });

  it("tutorialHiddenInit draws Theano's [nIn, nOut] matrix and returns its transpose [nOut, nIn]", () => {
    const [nIn, nOut] = [3, 2];
    const b = Math.sqrt(6 / 5);
    const drawn = new RandomState(4).uniform(-b, b, 6); // Theano W[i, o] = drawn[i * nOut + o]
    const t = init.tutorialHiddenInit(nIn, nOut, new RandomState(4));
    expect(t.shape).toEqual([nOut, nIn]);
    const v = values(t);
    for (let i = 0; i < nIn; i++) for (let o = 0; o < nOut; o++) expect(v[o * nIn + i]).toBe(Math.fround(drawn[i * nOut + o]!));
    t.dispose();
  });

  it("the generator advances: consecutive draws differ and replay from the same seed", () => {
    const rng = new RandomState(5);
    const a = init.uniform([3], 0, 1, rng);
    const b = init.uniform([3], 0, 1, rng);
    expect(values(a)).not.toEqual(values(b));
    const replay = new RandomState(5);
    replay.uniform(0, 1, 3);
    expect(values(b)).toEqual(Array.from(replay.uniform(0, 1, 3), Math.fround));
    a.dispose();
    b.dispose();
  });
});
