/**
 * The capture half of the conformance suite: `capture` of a training step on a backend gives
 * what the eager step gives, keeps memory flat, and runs eagerly (saying why) when it cannot be
 * replayed. Runs inside `describeGradientConformance`, so on every backend, compiled or not.
 */
import * as T from "@tessera/tensor";
import { type Backend, RandomState, type Tensor, memory } from "@tessera/tensor";
import { expect, it } from "vitest";
import { noGrad } from "../index.js";

interface Params {
  w: Tensor;
  b: Tensor;
  v: Tensor;
  c: Tensor;
}

/** A conv net's parameters (conv 3x3, 2x2 max pool, bias, tanh, dense), the same for the same seed. */
function params(seed: number): Params {
  const rng = new RandomState(seed);
  const p = {
    w: T.tensor(rng.uniform(-0.3, 0.3, 3 * 1 * 3 * 3), { shape: [3, 1, 3, 3] }),
    b: T.tensor(rng.uniform(-0.1, 0.1, 3)),
    v: T.tensor(rng.uniform(-0.3, 0.3, 27 * 3), { shape: [27, 3] }),
    c: T.zeros([3]),
  };
  for (const t of Object.values(p)) t.requiresGrad = true;
  return p;
}

/** Four batches of four 8x8 images and their classes. */
function batches(): Array<{ x: Tensor; y: Tensor }> {
  const rng = new RandomState(5);
  return [0, 1, 2, 3].map((k) => ({
    x: T.tensor(rng.normal(0, 1, 4 * 64), { shape: [4, 1, 8, 8] }),
    y: T.tensor(Int32Array.from([0, 1, 2, 1].map((c) => (c + k) % 3))),
  }));
}

/** One SGD step: forward, cross-entropy, backward, p -= lr * grad, gradients cleared; returns the loss. */
function trainStep(p: Params, x: Tensor, y: Tensor, lr: number): Tensor {
  const h = T.tanh(T.add(T.maxPool2d(T.conv2d(x, p.w), { kernelSize: 2 }), T.reshape(p.b, [1, 3, 1, 1])));
  const logits = T.add(T.matmul(T.reshape(h, [4, 27]), p.v), p.c);
  const loss = T.neg(T.mean(T.sum(T.mul(T.logSoftmax(logits), T.oneHot(y, 3)), 1)));
  loss.backward();
  noGrad(() => {
    for (const t of Object.values(p) as Tensor[]) {
      t.assign(T.sub(t, T.mul(t.grad!, lr)));
      t.grad!.dispose();
      t.grad = null;
    }
  });
  return loss;
}

const TOL = { atol: 1e-5, rtol: 1e-4 };

async function expectClose(actual: Tensor, expected: Tensor, what: string): Promise<void> {
  const a = await actual.data();
  const e = await expected.data();
  expect(a.length, what).toBe(e.length);
  for (let i = 0; i < e.length; i++) {
    const ok = Math.abs(a[i]! - e[i]!) <= TOL.atol + TOL.rtol * Math.abs(e[i]!);
    if (!ok) expect.fail(`${what}: element ${i} is ${a[i]}, expected ${e[i]}`);
  }
}

/** Registers the captured-step tests; `backend()` is the suite's active backend. */
export function describeCapturedSteps(backend: () => Backend): void {
  it("a captured training step gives the eager step's losses and parameters, replaying from the third call", async () => {
    const data = batches();
    const eagerParams = params(1);
    const capturedParams = params(1);
    let replays = 0;
    const step = T.capture((x: Tensor, y: Tensor) => trainStep(capturedParams, x, y, 0.1), { onReplay: () => replays++ });
    for (let i = 0; i < 8; i++) {
      const { x, y } = data[i % 4]!;
      const expected = T.tidy(() => trainStep(eagerParams, x, y, 0.1));
      const loss = step(x, y);
      expect(loss.requiresGrad).toBe(false);
      await expectClose(loss, expected, `loss of step ${i}`);
      T.dispose([loss, expected]);
    }
    for (const k of ["w", "b", "v", "c"] as const) await expectClose(capturedParams[k], eagerParams[k], `parameter ${k}`);
    const s = step.stats();
    expect(s.reason).toBeNull();
    expect(s.recorded).toBe(2);
    expect(s.replayed).toBe(6);
    expect(replays).toBe(6);
    expect(s.programCalls).toBeGreaterThan(10);
    expect(s.compiled).toBe(typeof backend().compile === "function");
    step.dispose();
    T.dispose([data, eagerParams, capturedParams]);
  });

  it("memory stays flat over captured steps (tensors, buffers, bytes and the backend's own report)", async () => {
    const data = batches();
    const p = params(2);
    const step = T.capture((x: Tensor, y: Tensor) => trainStep(p, x, y, 0.05));
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const loss = step(data[i % 4]!.x, data[i % 4]!.y);
      if (i % 20 === 19) await loss.data();
      loss.dispose();
      const m = memory(backend());
      if (i >= 4) seen.add(JSON.stringify(m));
    }
    expect(step.stats().replayed).toBe(58);
    expect([...seen]).toHaveLength(1);
    const before = memory(backend());
    const programBytes = step.stats().programBytes;
    expect(programBytes).toBeGreaterThan(0);
    step.dispose();
    expect(memory(backend()).bytes).toBe(before.bytes - programBytes);
    T.dispose([data, p]);
  });

  it("options.key re-records when the learning rate changes", async () => {
    const data = batches();
    const eagerParams = params(3);
    const capturedParams = params(3);
    let lr = 0.1;
    const step = T.capture((x: Tensor, y: Tensor) => trainStep(capturedParams, x, y, lr), { key: () => lr });
    for (let i = 0; i < 10; i++) {
      if (i === 5) lr = 0.02;
      const { x, y } = data[i % 4]!;
      T.tidy(() => trainStep(eagerParams, x, y, lr)).dispose();
      step(x, y).dispose();
    }
    for (const k of ["w", "b", "v", "c"] as const) await expectClose(capturedParams[k], eagerParams[k], `parameter ${k}`);
    expect(step.stats().recorded).toBe(4);
    step.dispose();
    T.dispose([data, eagerParams, capturedParams]);
  });

  it("a tensor the function reads without receiving it is baked in until it is replaced or disposed", async () => {
    let scale = T.tensor([2, 2, 2]);
    const f = T.capture((x: Tensor) => T.mul(T.exp(x), scale));
    const x = T.tensor([0, 1, 2]);
    for (let i = 0; i < 4; i++) f(x).dispose();
    expect(f.stats().replayed).toBe(2);
    scale.dispose();
    scale = T.tensor([3, 3, 3]);
    const out = f(x);
    await expectClose(
      out,
      T.tidy(() => T.mul(T.exp(x), 3)),
      "after replacing the closed-over tensor",
    );
    expect(f.stats().recorded).toBe(3);
    f.dispose();
    T.dispose([scale, x, out]);
  });

  it("a view of a parameter taken between steps keeps the values it had, as in eager mode", async () => {
    const data = batches();
    const p = params(4);
    const step = T.capture((x: Tensor, y: Tensor) => trainStep(p, x, y, 0.1));
    for (let i = 0; i < 3; i++) step(data[i]!.x, data[i]!.y).dispose();
    const view = T.reshape(p.v, [81]);
    const saved = T.clone(view);
    step(data[3]!.x, data[3]!.y).dispose();
    expect(step.stats().replayed).toBe(2);
    await expectClose(view, saved, "the view");
    const changed = await T.tidy(() => T.sum(T.abs(T.sub(T.reshape(p.v, [81]), saved)))).data();
    expect(changed[0]).toBeGreaterThan(0);
    step.dispose();
    T.dispose([data, p, view, saved]);
  });

  it("runs eagerly, with the right results and the reason, when a replay would be wrong", async () => {
    const x = T.tensor([1, 2, 3]);
    const w = T.tensor([1, 1, 1]);
    w.requiresGrad = true;
    const cases: Array<[string, (x: Tensor) => Tensor, RegExp]> = [
      [
        "gradients left behind",
        (t) => {
          const y = T.sum(T.mul(t, w));
          y.backward();
          return y;
        },
        /leaves 1 tensor alive that it neither returns nor assigns/,
      ],
      [
        "a value read back",
        (t) => {
          void t.data();
          return T.neg(t);
        },
        /reads values back from the device/,
      ],
      [
        "its argument disposed",
        (t) => {
          const y = T.neg(t);
          t.dispose();
          return y;
        },
        /disposes a tensor it did not create/,
      ],
    ];
    for (const [name, fn, reason] of cases) {
      const f = T.capture(fn);
      // A first call may legitimately differ (creating state); four failed recordings mean eager for good.
      for (let i = 0; i < 4; i++) {
        // Each call leaves a fresh gradient behind (cleared here, outside the function).
        w.grad?.dispose();
        w.grad = null;
        const input = T.clone(x);
        const out = f(input);
        const expected = name === "gradients left behind" ? T.sum(x) : T.neg(x);
        await expectClose(out, expected, name);
        T.dispose([input, out, expected]);
      }
      expect(f.stats().reason, name).toMatch(reason);
      expect(f.stats().replayed, name).toBe(0);
      f.dispose();
    }
    let step = 0;
    const counting = T.capture((t: Tensor) => T.mul(t, ++step));
    for (let i = 1; i <= 6; i++) {
      const out = counting(x);
      await expectClose(
        out,
        T.tidy(() => T.mul(x, i)),
        `call ${i}`,
      );
      out.dispose();
    }
    expect(counting.stats().reason).toMatch(/different work on consecutive calls/);
    expect(counting.stats().replayed).toBe(0);
    counting.dispose();
    T.dispose([x, w]);
  });
}
