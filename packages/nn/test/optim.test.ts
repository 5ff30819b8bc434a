import { describe, expect, it, vi } from "vitest";
import "@tessera/backend-cpu";
import "@tessera/autograd";
import * as T from "@tessera/tensor";
import type { Tensor } from "@tessera/tensor";
import { Adam, Linear, SGD, optim, parameter } from "../src/index.js";
import { values } from "./helpers.js";

const { LRScheduler, StepLR, ExponentialLR, stepDecay, exponentialDecay, composeSchedules } = optim;

// Two scalars, two steps: p0 = [1, -2], then gradients g1 = [0.5, 1] and g2 = [-1, 2].
const P0 = [1, -2];
const G1 = [0.5, 1];
const G2 = [-1, 2];

/** Runs two steps of `make(param)` with the fixed gradients; returns p after each step. */
function twoSteps(make: (params: Tensor[]) => { step(): void; zeroGrad(): void }): number[][] {
  const p = parameter(T.tensor(P0));
  const opt = make([p]);
  const seen: number[][] = [];
  for (const g of [G1, G2]) {
    p.grad = T.tensor(g);
    opt.step();
    opt.zeroGrad();
    expect(p.grad).toBeNull();
    seen.push(values(p));
  }
  p.dispose();
  return seen;
}

function expectClose(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  for (const [s, row] of actual.entries()) {
    for (const [i, v] of row.entries()) expect(v, `step ${s + 1}, element ${i}`).toBeCloseTo(expected[s]![i]!, 6);
  }
}

describe("SGD steps (hand-computed)", () => {
  it("plain: p -= lr·g", () => {
    // lr 0.1: [1 - 0.05, -2 - 0.1] = [0.95, -2.1]; then [0.95 + 0.1, -2.1 - 0.2].
    expectClose(
      twoSteps((ps) => new SGD(ps, { lr: 0.1 })),
      [
        [0.95, -2.1],
        [1.05, -2.3],
      ],
    );
  });

  it("momentum: buf = g at the first step, then μ·buf + g", () => {
    // step 1: buf = [0.5, 1], p = [0.95, -2.1]
    // step 2: buf = 0.9·[0.5, 1] + [-1, 2] = [-0.55, 2.9], p = [0.95 + 0.055, -2.1 - 0.29]
    expectClose(
      twoSteps((ps) => new SGD(ps, { lr: 0.1, momentum: 0.9 })),
      [
        [0.95, -2.1],
        [1.005, -2.39],
      ],
    );
  });

  it("momentum with dampening: buf = μ·buf + (1-dampening)·g after the first step", () => {
    // step 1: buf = g1 (undampened, as PyTorch), p = [0.95, -2.1]
    // step 2: buf = 0.9·[0.5, 1] + 0.5·[-1, 2] = [-0.05, 1.9], p = [0.95 + 0.005, -2.1 - 0.19]
    expectClose(
      twoSteps((ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.5 })),
      [
        [0.95, -2.1],
        [0.955, -2.29],
      ],
    );
  });

  it("Nesterov: p -= lr·(g + μ·buf)", () => {
    // step 1: buf = [0.5, 1], d = g1 + 0.9·buf = [0.95, 1.9], p = [0.905, -2.19]
    // step 2: buf = [-0.55, 2.9], d = [-1, 2] + 0.9·buf = [-1.495, 4.61], p = [0.905 + 0.1495, -2.19 - 0.461]
    expectClose(
      twoSteps((ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true })),
      [
        [0.905, -2.19],
        [1.0545, -2.651],
      ],
    );
  });

  it("weight decay: g += wd·p before the update", () => {
    // step 1: g = [0.5 + 0.01, 1 - 0.02] = [0.51, 0.98], p = [0.949, -2.098]
    // step 2: g = [-1 + 0.00949, 2 - 0.02098] = [-0.99051, 1.97902], p = [0.949 + 0.099051, -2.098 - 0.197902]
    expectClose(
      twoSteps((ps) => new SGD(ps, { lr: 0.1, weightDecay: 0.01 })),
      [
        [0.949, -2.098],
        [1.048051, -2.295902],
      ],
    );
  });

  it("weight decay with momentum: decay enters the momentum buffer", () => {
    // step 1: g = [0.51, 0.98] = buf, p = [0.949, -2.098]
    // step 2: g = [-0.99051, 1.97902], buf = 0.9·[0.51, 0.98] + g = [-0.53151, 2.86102], p = [0.949 + 0.053151, -2.098 - 0.286102]
    expectClose(
      twoSteps((ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 })),
      [
        [0.949, -2.098],
        [1.002151, -2.384102],
      ],
    );
  });

  it("rejects Nesterov without momentum or with dampening, empty parameter lists and bad rates", () => {
    const p = parameter(T.tensor([1]));
    expect(() => new SGD([p], { lr: 0.1, nesterov: true })).toThrow("SGD: Nesterov momentum needs momentum > 0 and zero dampening");
    expect(() => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/Nesterov/);
    expect(() => new SGD([], { lr: 0.1 })).toThrow("SGD: got an empty parameter list");
    expect(() => new SGD([p], { lr: 0 })).toThrow("SGD: learning rate must be positive, got 0");
    expect(() => new Adam([p], { lr: -1 })).toThrow("Adam: learning rate must be positive, got -1");
    p.dispose();
  });
});

describe("Adam steps (hand-computed)", () => {
  /** Adam by hand for one scalar: returns p after each step. */
  function adamByHand(p0: number, grads: number[], o: { lr: number; b1: number; b2: number; eps: number; wd: number }): number[] {
    let [p, m, v] = [p0, 0, 0];
    return grads.map((g0, k) => {
      const t = k + 1;
      const g = g0 + o.wd * p;
      m = o.b1 * m + (1 - o.b1) * g;
      v = o.b2 * v + (1 - o.b2) * g * g;
      const mHat = m / (1 - o.b1 ** t);
      const vHat = v / (1 - o.b2 ** t);
      p -= (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
      return p;
    });
  }
  const byHand = (o: { lr: number; b1: number; b2: number; eps: number; wd: number }) => {
    const cols = P0.map((p0, i) => adamByHand(p0, [G1[i]!, G2[i]!], o));
    return [0, 1].map((s) => cols.map((c) => c[s]!));
  };

  it("defaults betas (0.9, 0.999), eps 1e-8: the first step moves each scalar by lr·sign(g)", () => {
    const got = twoSteps((ps) => new Adam(ps, { lr: 0.1 }));
    // Step 1: mHat = g, vHat = g², so p -= 0.1·g/|g|. Step 2 from the formulas (and numpy):
    expectClose(got, [
      [0.9, -2.1],
      [0.9366103542405654, -2.1965182009718336],
    ]);
    expectClose(got, byHand({ lr: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0 }));
  });

  it("custom betas and eps", () => {
    const o = { lr: 0.05, b1: 0.5, b2: 0.9, eps: 0.1, wd: 0 };
    expectClose(
      twoSteps((ps) => new Adam(ps, { lr: o.lr, betas: [o.b1, o.b2], eps: o.eps })),
      byHand(o),
    );
  });

  it("weight decay is added to the gradient (L2, PyTorch's Adam)", () => {
    const got = twoSteps((ps) => new Adam(ps, { lr: 0.1, weightDecay: 0.1 }));
    expectClose(got, [
      [0.9, -2.1],
      [0.9252635194456061, -2.1952720095868674],
    ]);
    expectClose(got, byHand({ lr: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1 }));
  });

  it("keeps exp_avg and exp_avg_sq per parameter", () => {
    const p = parameter(T.tensor(P0));
    const opt = new Adam([p], { lr: 0.1 });
    p.grad = T.tensor(G1);
    opt.step();
    const s = opt.stateDict();
    expect([...s.tensors.keys()].sort()).toEqual(["0.exp_avg", "0.exp_avg_sq"]);
    expect(values(s.tensors.get("0.exp_avg")!)).toEqual([0.05, 0.1].map(Math.fround));
    expect(
      values(s.tensors.get("0.exp_avg_sq")!)
        .map((e, i) => e - 0.001 * G1[i]! ** 2)
        .every((d) => Math.abs(d) < 1e-9),
    ).toBe(true);
    expect(s.scalars).toEqual({ lr: 0.1, stepCount: 1 });
    opt.dispose();
    p.dispose();
  });
});

describe("Optimizer behaviour", () => {
  it("uses the gradients that backward() leaves in .grad", () => {
    // loss = sum((w x)²) / 2 with w = [[1, 2]], x = [[3], [4]]: dL/dw = (w x) xᵀ = 11·[3, 4].
    const w = parameter(T.tensor([[1, 2]]));
    const x = T.tensor([[3], [4]]);
    const opt = new SGD([w], { lr: 0.01 });
    T.tidy(() => T.div(T.sum(T.square(T.matmul(w, x))), 2).backward());
    expect(values(w.grad!)).toEqual([33, 44]);
    opt.step();
    expect(values(w)[0]).toBeCloseTo(1 - 0.33, 6);
    expect(values(w)[1]).toBeCloseTo(2 - 0.44, 6);
    T.dispose([w, x]);
    opt.dispose();
  });

  it("skips parameters without a gradient, and a momentum buffer is only made for those stepped", () => {
    const a = parameter(T.tensor([1]));
    const b = parameter(T.tensor([2]));
    const opt = new SGD([a, b], { lr: 0.5, momentum: 0.9 });
    a.grad = T.tensor([1]);
    opt.step();
    expect(values(a)).toEqual([0.5]);
    expect(values(b)).toEqual([2]);
    expect([...opt.stateDict().tensors.keys()]).toEqual(["0.momentum"]);
    expect(opt.stepCount).toBe(1);
    T.dispose([a, b]);
    opt.dispose();
  });

  it("does not record the update for autograd", () => {
    const p = parameter(T.tensor([1, 2]));
    const opt = new SGD([p], { lr: 0.1, momentum: 0.5 });
    p.grad = T.tensor([1, 1]);
    opt.step();
    expect(p.gradNode).toBeNull();
    expect(p.requiresGrad).toBe(true);
    for (const t of opt.stateDict().tensors.values()) expect(t.requiresGrad).toBe(false);
    p.dispose();
    opt.dispose();
  });

  it("stateDict / loadStateDict resume momentum exactly", () => {
    const run = (resumeAfterFirst: boolean): number[] => {
      const p = parameter(T.tensor(P0));
      let opt = new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true });
      p.grad = T.tensor(G1);
      opt.step();
      if (resumeAfterFirst) {
        const fresh = new SGD([p], { lr: 0.5, momentum: 0.9, nesterov: true });
        fresh.loadStateDict(opt.stateDict());
        expect(fresh.lr).toBe(0.1);
        expect(fresh.stepCount).toBe(1);
        opt.dispose(); // the loaded state is a copy
        opt = fresh;
      }
      p.grad.dispose();
      p.grad = T.tensor(G2);
      opt.step();
      const out = values(p);
      opt.dispose();
      p.dispose();
      return out;
    };
    expect(run(true)).toEqual(run(false));
  });

  it("loadStateDict names a state that belongs to no parameter", () => {
    const p = parameter(T.tensor([1]));
    const opt = new SGD([p], { lr: 0.1 });
    const t = T.tensor([1]);
    expect(() => opt.loadStateDict({ tensors: new Map([["3.momentum", t]]), scalars: {} })).toThrow(
      "Optimizer.loadStateDict: state '3.momentum' names no parameter (this optimizer has 1)",
    );
    T.dispose([p, t]);
  });

  it("trains a Linear regression to the exact solution", () => {
    // y = 2 x0 - 3 x1 + 0.5, fit with Adam.
    const x = T.tensor([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
      [2, -1],
      [-1, 2],
    ]);
    const y = T.tensor([[0.5], [2.5], [-2.5], [-0.5], [7.5], [-7.5]]);
    const fc = new Linear(2, 1);
    const opt = new Adam(fc.parameters(), { lr: 0.1 });
    for (let i = 0; i < 300; i++) {
      T.tidy(() => {
        T.mean(T.square(T.sub(fc.forward(x), y))).backward();
        opt.step();
        opt.zeroGrad();
      });
    }
    expect(values(fc.weight)[0]).toBeCloseTo(2, 2);
    expect(values(fc.weight)[1]).toBeCloseTo(-3, 2);
    expect(values(fc.bias!)[0]).toBeCloseTo(0.5, 2);
    T.dispose([x, y]);
    fc.dispose();
    opt.dispose();
  });
});

describe("learning-rate schedules", () => {
  it("stepDecay multiplies by gamma every stepSize epochs", () => {
    const s = stepDecay(2, 0.5);
    expect([0, 1, 2, 3, 4, 5].map(s)).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25]);
    expect(stepDecay(3)(3)).toBeCloseTo(0.1, 12);
    expect(() => stepDecay(0)).toThrow("stepDecay: stepSize must be a positive integer, got 0");
    expect(() => stepDecay(1.5)).toThrow(/stepSize must be a positive integer, got 1.5/);
  });

  it("exponentialDecay is gamma^epoch; composeSchedules multiplies", () => {
    const e = exponentialDecay(0.9);
    expect([0, 1, 2].map(e)).toEqual([1, 0.9, 0.9 ** 2]);
    const warmup = (epoch: number) => Math.min(1, (epoch + 1) / 3);
    const c = composeSchedules(warmup, stepDecay(4, 0.1));
    expect([0, 1, 2, 3, 4].map(c).map((v) => Number(v.toFixed(12)))).toEqual([1 / 3, 2 / 3, 1, 1, 0.1].map((v) => Number(v.toFixed(12))));
    expect(composeSchedules()(7)).toBe(1);
  });

  it("LRScheduler sets the optimizer's rate from the base rate each epoch", () => {
    const p = parameter(T.tensor([0]));
    const opt = new SGD([p], { lr: 0.2 });
    const sched = new LRScheduler(opt, (epoch) => 1 / (epoch + 1));
    expect(sched.baseLr).toBe(0.2);
    expect([sched.step(), sched.step(), sched.step()]).toEqual([0.1, 0.2 / 3, 0.05]);
    expect(opt.lr).toBe(0.05);
    expect(sched.epoch).toBe(3);
    // The next step uses the scheduled rate.
    p.grad = T.tensor([1]);
    opt.step();
    expect(values(p)[0]).toBeCloseTo(-0.05, 7);
    p.dispose();
  });

  it("StepLR and ExponentialLR follow PyTorch (rate after n calls of step())", () => {
    const p = parameter(T.tensor([0]));
    const a = new SGD([p], { lr: 1 });
    const stepLR = new StepLR(a, { stepSize: 2, gamma: 0.1 });
    const seen = [1, 2, 3, 4, 5].map(() => stepLR.step());
    for (const [i, v] of [1, 0.1, 0.1, 0.01, 0.01].entries()) expect(seen[i]).toBeCloseTo(v, 12);
    const b = new SGD([p], { lr: 0.5 });
    const expLR = new ExponentialLR(b, { gamma: 0.5 });
    expect([expLR.step(), expLR.step(), expLR.step()]).toEqual([0.25, 0.125, 0.0625]);
    expect(b.lr).toBe(0.0625);
    p.dispose();
  });
});

describe("a training loop that leaks is noticed", () => {
  /** Runs `steps` SGD steps of a tiny linear model; `leak` keeps each step's tensors alive. */
  function train(steps: number, leak: boolean, memoryWarning: boolean | ((m: string) => void)) {
    const model = new Linear(4, 3, { generator: new T.RandomState(1) });
    const x = T.randn([8, 4], { generator: new T.RandomState(2) });
    const y = T.tensor(Int32Array.from({ length: 8 }, (_, i) => i % 3));
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, memoryWarning });
    const leaked: Tensor[] = [];
    for (let i = 0; i < steps; i++) {
      const step = () => {
        const loss = T.mean(T.square(model.forward(x)));
        loss.backward();
        opt.step();
        opt.zeroGrad();
        return loss;
      };
      if (leak) leaked.push(step());
      else T.tidy(() => void step());
    }
    T.dispose([leaked, x, y, model]);
    opt.dispose();
  }

  it("warns once, naming the growth and the cure, when live tensors grow step after step", () => {
    const messages: string[] = [];
    train(400, true, (m) => messages.push(m));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(
      /^SGD\.step: live tensors grew at each of the last 4 checks \(every 50 steps\): \d+ after step 50, \d+ after step 250 \(\+\d+\.\d per step/,
    );
    expect(messages[0]).toMatch(/T\.tidy\(\(\) => \{ \.\.\. \}\).*T\.dispose\(\[x, y\]\).*memoryWarning: false/);
  });

  it("by default the warning goes to console.warn, once", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      train(300, true, true);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/^SGD\.step: live tensors grew/);
    } finally {
      warn.mockRestore();
    }
  });

  it("stays silent for a loop that frees its tensors, and when turned off", () => {
    const messages: string[] = [];
    train(400, false, (m) => messages.push(m));
    expect(messages).toEqual([]);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      train(300, true, false);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});
