import { describe, expect, it } from "vitest";
import "@tessera/backend-cpu";
import { noGrad } from "@tessera/autograd";
import * as T from "@tessera/tensor";
import { RandomState, type Tensor } from "@tessera/tensor";
import {
  captureTrainingStep,
  Adam,
  Conv2d,
  Dropout,
  Flatten,
  LeNet5,
  Linear,
  MaxPool2d,
  type Module,
  type Optimizer,
  ReLU,
  SGD,
  Sequential,
  Tanh,
  crossEntropyLoss,
  optim,
} from "../src/index.js";
import { randomTensor } from "./helpers.js";

/** XOR of the signs of two coordinates: not linearly separable, needs the hidden layer. */
function xorData(n: number, seed: number): { x: Tensor; y: Tensor } {
  const rng = new RandomState(seed);
  const xs: number[] = [];
  const ys: number[] = [];
  while (ys.length < n) {
    const [a, b] = rng.uniform(-1, 1, 2) as unknown as [number, number];
    if (Math.abs(a) < 0.1 || Math.abs(b) < 0.1) continue; // a margin around the axes
    xs.push(a, b);
    ys.push(a > 0 !== b > 0 ? 1 : 0);
  }
  return { x: T.tensor(Float32Array.from(xs), { shape: [n, 2] }), y: T.tensor(Int32Array.from(ys)) };
}

/**
 * 1x10x10 images with one bar of length 5 on a noisy background: class 0 horizontal, 1 vertical,
 * 2 diagonal; position random.
 */
function barData(n: number, seed: number): { x: Tensor; y: Tensor } {
  const rng = new RandomState(seed);
  const size = 10;
  const px = new Float32Array(n * size * size);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 3;
    ys[i] = cls;
    const noise = rng.uniform(0, 0.3, size * size);
    for (let k = 0; k < size * size; k++) px[i * size * size + k] = noise[k]!;
    const [r0, c0] = rng.randint(0, size - 5, 2) as unknown as [number, number];
    for (let t = 0; t < 5; t++) {
      const [r, c] = cls === 0 ? [r0, c0 + t] : cls === 1 ? [r0 + t, c0] : [r0 + t, c0 + t];
      px[i * size * size + r * size + c] = 1;
    }
  }
  return { x: T.tensor(px, { shape: [n, 1, size, size] }), y: T.tensor(ys) };
}

function fit(model: Module, opt: Optimizer, x: Tensor, y: Tensor, steps: number, batch: number, onEpoch?: () => void): number[] {
  const n = x.shape[0]!;
  const losses: number[] = [];
  model.train();
  for (let s = 0; s < steps; s++) {
    const start = (s * batch) % n;
    T.tidy(() => {
      const xb = T.slice(x, [{ start, end: start + batch }]);
      const yb = T.slice(y, [{ start, end: start + batch }]);
      const loss = crossEntropyLoss(model.forward(xb), yb);
      loss.backward();
      opt.step();
      opt.zeroGrad();
      losses.push(loss.item());
    });
    if (onEpoch && (start + batch) % n === 0) onEpoch();
  }
  return losses;
}

function accuracy(model: Module, x: Tensor, y: Tensor): number {
  model.eval();
  const acc = noGrad(() =>
    T.tidy(() => {
      const pred = T.argmax(model.forward(x), 1);
      return T.mean(T.cast(T.equal(pred, y), "float32")).item();
    }),
  );
  model.train();
  return acc;
}

describe("training on synthetic tasks", () => {
  it("an MLP learns XOR to high accuracy (Adam)", () => {
    const rng = new RandomState(0);
    const model = new Sequential(new Linear(2, 16, { generator: rng }), new Tanh(), new Linear(16, 2, { generator: rng }));
    const train = xorData(200, 1);
    const test = xorData(200, 2);
    const before = accuracy(model, test.x, test.y);
    const opt = new Adam(model.parameters(), { lr: 0.05 });
    const losses = fit(model, opt, train.x, train.y, 150, 200);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 5);
    expect(accuracy(model, train.x, train.y)).toBeGreaterThanOrEqual(0.97);
    expect(accuracy(model, test.x, test.y)).toBeGreaterThanOrEqual(0.95);
    expect(before).toBeLessThan(0.8);
    T.dispose([train, test]);
    model.dispose();
    opt.dispose();
  });

  it("a conv net with dropout learns bar orientations (SGD with Nesterov momentum and a step schedule)", () => {
    const rng = new RandomState(3);
    const model = new Sequential(
      new Conv2d(1, 6, 3, { generator: rng }),
      new ReLU(),
      new MaxPool2d(2),
      new Flatten(),
      new Dropout(0.1, rng),
      new Linear(6 * 4 * 4, 3, { generator: rng }),
    );
    const train = barData(120, 4);
    const test = barData(60, 5);
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
    const sched = new optim.StepLR(opt, { stepSize: 8, gamma: 0.5 });
    const losses = fit(model, opt, train.x, train.y, 120, 30, () => sched.step());
    expect(sched.epoch).toBe(30);
    expect(opt.lr).toBeCloseTo(0.1 * 0.5 ** 3, 12);
    expect(losses.at(-1)!).toBeLessThan(0.3);
    expect(accuracy(model, train.x, train.y)).toBeGreaterThanOrEqual(0.97);
    expect(accuracy(model, test.x, test.y)).toBeGreaterThanOrEqual(0.95);
    T.dispose([train, test]);
    model.dispose();
    opt.dispose();
  });

  it("a small LeNet5 learns bar orientations with the tutorial's plain SGD", () => {
    const model = new LeNet5({ inputShape: [1, 10, 10], kernels: [4, 6], filterSize: 3, hidden: 16, classes: 3 });
    const train = barData(120, 6);
    const test = barData(60, 7);
    const opt = new SGD(model.parameters(), { lr: 0.2 });
    fit(model, opt, train.x, train.y, 240, 20);
    expect(accuracy(model, train.x, train.y)).toBeGreaterThanOrEqual(0.95);
    expect(accuracy(model, test.x, test.y)).toBeGreaterThanOrEqual(0.9);
    T.dispose([train, test]);
    model.dispose();
  });

  it("the tutorial-sized LeNet5 takes SGD steps on 28x28 batches of 20: the loss starts at ln(10), falls, and no tensor leaks", () => {
    const model = new LeNet5();
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const x = randomTensor([20, 1, 28, 28], 11, 0, 1);
    const y = T.tensor(Int32Array.from({ length: 20 }, (_, i) => i % 10));
    const live = T.memory().tensors;
    const losses = fit(model, opt, x, y, 5, 20);
    expect(T.memory().tensors).toBe(live);
    expect(losses[0]).toBeCloseTo(Math.log(10), 5); // fc2 starts at zero: uniform logits
    for (let i = 1; i < losses.length; i++) expect(losses[i], `step ${i}`).toBeLessThan(losses[i - 1]!);
    T.dispose([x, y]);
    model.dispose();
  });

  it("training leaks no tensors", () => {
    const rng = new RandomState(0);
    const model = new Sequential(new Linear(2, 8, { generator: rng }), new Tanh(), new Dropout(0.2, rng), new Linear(8, 2, { generator: rng }));
    const data = xorData(32, 9);
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    fit(model, opt, data.x, data.y, 2, 32); // creates the momentum buffers
    const live = T.memory().tensors;
    fit(model, opt, data.x, data.y, 5, 16);
    accuracy(model, data.x, data.y);
    expect(T.memory().tensors).toBe(live);
    T.dispose(data);
    model.dispose();
    opt.dispose();
  });
});

describe("captured training steps (T.capture)", () => {
  /** `steps` LeNet-5 steps on two fixed batches; captured or eager; the losses and final weights. */
  async function train(makeOptimizer: (m: LeNet5) => Optimizer, captured: boolean, steps = 6) {
    const model = new LeNet5();
    const optimizer = makeOptimizer(model);
    const rng = new RandomState(21);
    const data = [0, 1].map(() => ({
      x: T.tensor(rng.rand(4 * 28 * 28), { shape: [4, 1, 28, 28] }),
      y: T.tensor(new Int32Array([1, 7, 3, 0])),
    }));
    const step = (x: Tensor, y: Tensor) => {
      const loss = crossEntropyLoss(model.forward(x), y);
      loss.backward();
      optimizer.step();
      optimizer.zeroGrad();
      return loss;
    };
    const run = captured ? T.capture(step, { key: () => optimizer.lr }) : (x: Tensor, y: Tensor) => T.tidy(() => step(x, y));
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const loss = run(data[i % 2]!.x, data[i % 2]!.y);
      losses.push(loss.item());
      loss.dispose();
    }
    const stats = captured ? (run as ReturnType<typeof T.capture>).stats() : null;
    const weights = model.parameters().map((p) => Array.from(p.dataSync()));
    if (captured) (run as ReturnType<typeof T.capture>).dispose();
    T.dispose(data);
    model.dispose();
    optimizer.dispose();
    return { losses, weights, stats };
  }

  it("SGD with momentum and weight decay: the momentum buffers are carried from call to call, bit for bit", async () => {
    const make = (m: LeNet5) => new SGD(m.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
    const eager = await train(make, false);
    const captured = await train(make, true);
    expect(captured.stats!.reason).toBeNull();
    expect(captured.stats!.replayed).toBe(3); // recorded at calls 1-3: the first creates the momentum buffers
    expect(captured.losses).toEqual(eager.losses);
    expect(captured.weights).toEqual(eager.weights);
  });

  it("a class index outside [0, C) is refused eagerly; in a replayed step, which runs no host check, its row makes the loss NaN", () => {
    const model = new LeNet5();
    const optimizer = new SGD(model.parameters(), { lr: 0.05 });
    const x = T.tensor(new RandomState(3).rand(4 * 28 * 28), { shape: [4, 1, 28, 28] });
    const good = T.tensor(new Int32Array([1, 7, 3, 0]));
    const bad = T.tensor(new Int32Array([1, 12, 3, 0]));
    const step = (xs: Tensor, ys: Tensor) => {
      const loss = crossEntropyLoss(model.forward(xs), ys);
      loss.backward();
      optimizer.step();
      optimizer.zeroGrad();
      return loss;
    };
    expect(() => T.tidy(() => crossEntropyLoss(model.forward(x), bad))).toThrow(/target 12 at position 1 is out of bounds for 10 classes/);
    const run = T.capture(step);
    for (let i = 0; i < 3; i++) {
      const loss = run(x, good);
      expect(Number.isFinite(loss.item())).toBe(true);
      loss.dispose();
    }
    const replayed = run.stats().replayed;
    expect(replayed).toBeGreaterThan(0);
    const loss = run(x, bad);
    expect(run.stats().replayed).toBe(replayed + 1);
    expect(loss.item()).toBeNaN();
    run.dispose();
    T.dispose([loss, x, good, bad]);
    model.dispose();
    optimizer.dispose();
  });

  it("captureTrainingStep: the eager step's losses and weights, the optimizer's step count, and a new recording after a change of learning rate", async () => {
    const rng = new RandomState(5);
    const x = T.tensor(rng.rand(4 * 28 * 28), { shape: [4, 1, 28, 28] });
    const y = T.tensor(new Int32Array([2, 9, 4, 4]));
    const runs = [false, true].map((captured) => {
      const model = new LeNet5();
      const optimizer = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
      const step = captureTrainingStep(model, optimizer);
      const losses: number[] = [];
      for (let i = 0; i < 8; i++) {
        if (i === 5) optimizer.lr = 0.02;
        const loss = captured
          ? step(x, y)
          : T.tidy(() => {
              const l = crossEntropyLoss(model.forward(x), y);
              l.backward();
              optimizer.step();
              optimizer.zeroGrad();
              return l;
            });
        losses.push(loss.item());
        loss.dispose();
      }
      const out = { losses, weights: model.parameters().map((p) => Array.from(p.dataSync())), stepCount: optimizer.stepCount, stats: step.stats() };
      step.dispose();
      model.dispose();
      optimizer.dispose();
      return out;
    });
    const [eager, captured] = runs as [(typeof runs)[0], (typeof runs)[0]];
    expect(captured.stats.reason).toBeNull();
    expect(captured.stats.replayed).toBeGreaterThan(0);
    expect(captured.stats.recorded).toBeGreaterThan(3); // the learning rate's change made it record again
    expect(captured.stepCount).toBe(8);
    expect(captured.losses).toEqual(eager.losses);
    expect(captured.weights).toEqual(eager.weights);
    T.dispose([x, y]);
  });

  it("Adam, whose bias correction changes every step, runs eagerly and says why", async () => {
    const make = (m: LeNet5) => new Adam(m.parameters(), { lr: 1e-3 });
    const eager = await train(make, false);
    const captured = await train(make, true);
    expect(captured.stats!.reason).toMatch(/different work on consecutive calls/);
    expect(captured.stats!.replayed).toBe(0);
    expect(captured.losses).toEqual(eager.losses);
    expect(captured.weights).toEqual(eager.weights);
  });
});
