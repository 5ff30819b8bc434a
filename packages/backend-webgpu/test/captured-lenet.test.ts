/**
 * LeNet-5 training steps captured with `T.capture` and replayed as a compiled program: on Dawn's
 * null backend, what a steady-state step costs the host (counted); on a real adapter (lavapipe in
 * CI), the same losses and weights as eager training here and on the CPU backend.
 */
import "@tessera/autograd";
import { createCpuBackend } from "@tessera/backend-cpu";
import { LeNet5, SGD, crossEntropyLoss } from "@tessera/nn";
import * as T from "@tessera/tensor";
import { afterAll, describe, expect, it } from "vitest";
import type { WebGPUBackend } from "../src/index.js";
import { tryBackend, tryNullBackend } from "./helpers.js";

/** A LeNet-5 training setup on the active backend: model, SGD, `batches` random batches of `n`. */
function setup(n: number, batches: number) {
  const model = new LeNet5();
  const optimizer = new SGD(model.parameters(), { lr: 0.1 });
  const rng = new T.RandomState(9);
  const data = Array.from({ length: batches }, () => ({
    x: T.tensor(rng.rand(n * 28 * 28), { shape: [n, 1, 28, 28] }),
    y: T.tensor(Int32Array.from({ length: n }, () => Math.floor(rng.rand(1)[0]! * 10))),
  }));
  const step = (x: T.Tensor, y: T.Tensor) => {
    const loss = crossEntropyLoss(model.forward(x), y);
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return loss;
  };
  return {
    model,
    data,
    step,
    dispose() {
      T.dispose(data);
      model.dispose();
      optimizer.dispose();
    },
  };
}

async function use(name: string, backend: T.Backend): Promise<void> {
  T.registerBackend(name, () => backend, -100);
  await T.setBackend(name);
}

const nul = await tryNullBackend();
describe.skipIf(!nul.backend)(`a replayed LeNet-5 step on Dawn's null backend${nul.backend ? "" : ` (skipped: ${nul.reason})`}`, () => {
  afterAll(() => T.removeBackend("webgpu-null-lenet"));

  it("records prepared dispatches only: no wait, staging buffer, bind group or write, fewer dispatches than eager", async () => {
    const b = nul.backend as WebGPUBackend;
    await use("webgpu-null-lenet", b);
    const s = setup(20, 2);
    const eagerStep = (i: number) => T.tidy(() => s.step(s.data[i % 2]!.x, s.data[i % 2]!.y));
    for (let i = 0; i < 3; i++) eagerStep(i).dispose();
    const e0 = b.stats();
    eagerStep(3).dispose();
    const eagerDispatches = b.stats().dispatches - e0.dispatches;
    const captured = T.capture(s.step);
    for (let i = 0; i < 4; i++) captured(s.data[i % 2]!.x, s.data[i % 2]!.y).dispose();
    expect(captured.stats().replayed).toBe(2);
    expect(captured.stats().compiled).toBe(true);
    const c0 = b.stats();
    for (let i = 0; i < 10; i++) captured(s.data[i % 2]!.x, s.data[i % 2]!.y).dispose();
    const c1 = b.stats();
    expect(c1.waits - c0.waits).toBe(0);
    expect(c1.stagingBuffers - c0.stagingBuffers).toBe(0);
    expect(c1.bindGroupsCreated - c0.bindGroupsCreated).toBe(0);
    expect(c1.writes - c0.writes).toBe(0);
    const perStep = (c1.dispatches - c0.dispatches) / 10;
    expect(perStep).toBe(Math.round(perStep));
    // Fusion (bias + tanh, the tanh gradient, the SGD updates written in place) removes about 30.
    expect(perStep).toBeLessThan(eagerDispatches - 20);
    captured.dispose();
    s.dispose();
  });
});

const gpu = await tryBackend();
describe.skipIf(!gpu.backend)(`captured LeNet-5 training${gpu.backend ? "" : ` (skipped: no WebGPU adapter: ${gpu.reason})`}`, () => {
  afterAll(async () => {
    await T.removeBackend("webgpu-captured-lenet");
    await T.removeBackend("cpu-captured-lenet");
  });

  it("gives the losses and weights of eager training, on this backend and on the CPU backend", async () => {
    const steps = 6;
    const run = async (name: string, backend: T.Backend, captured: boolean) => {
      await use(name, backend);
      const s = setup(8, 3);
      const f = captured ? T.capture(s.step) : (x: T.Tensor, y: T.Tensor) => T.tidy(() => s.step(x, y));
      const losses: number[] = [];
      for (let i = 0; i < steps; i++) {
        const loss = f(s.data[i % 3]!.x, s.data[i % 3]!.y);
        losses.push((await loss.data())[0]!);
        loss.dispose();
      }
      if (captured) expect((f as ReturnType<typeof T.capture>).stats().replayed).toBe(steps - 2);
      const weights = await Promise.all(s.model.parameters().map(async (p) => Array.from(await p.data())));
      if (captured) (f as ReturnType<typeof T.capture>).dispose();
      s.dispose();
      return { losses, weights };
    };
    const cpu = createCpuBackend({ threads: 1 });
    const reference = await run("cpu-captured-lenet", cpu, false);
    const eager = await run("webgpu-captured-lenet", gpu.backend!, false);
    const captured = await run("webgpu-captured-lenet", gpu.backend!, true);
    const close = (a: number, e: number) => Math.abs(a - e) <= 1e-4 + 1e-3 * Math.abs(e);
    for (const [what, other] of [
      ["eager webgpu", eager],
      ["captured webgpu", captured],
    ] as const) {
      other.losses.forEach((l, i) => expect(close(l, reference.losses[i]!), `${what} loss ${i}: ${l} vs cpu ${reference.losses[i]}`).toBe(true));
      other.weights.forEach((w, k) =>
        w.forEach((v, i) => {
          if (!close(v, reference.weights[k]![i]!)) expect.fail(`${what} parameter ${k}[${i}] is ${v}, cpu ${reference.weights[k]![i]}`);
        }),
      );
    }
    // Replay runs the eager kernels' own arithmetic (fusion only skips the stores): nearly bit for bit.
    captured.losses.forEach((l, i) => expect(Math.abs(l - eager.losses[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(eager.losses[i]!))));
    await T.removeBackend("cpu-captured-lenet");
  }, 600_000);
});
