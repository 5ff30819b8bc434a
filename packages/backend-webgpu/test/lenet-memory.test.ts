/** LeNet-5 training on WebGPU: live tensors, buffers and pooled bytes stay flat over many steps. */
import "@tessera/autograd";
import { LeNet5, SGD, crossEntropyLoss } from "@tessera/nn";
import * as T from "@tessera/tensor";
import { describe, expect, it } from "vitest";
import { tryBackend } from "./helpers.js";

const { backend, reason } = await tryBackend();

describe.skipIf(!backend)(`LeNet-5 memory on WebGPU${backend ? "" : ` (skipped: ${reason})`}`, () => {
  it("the live tensor count, buffers in use and pooled bytes are identical after every step", async () => {
    T.registerBackend("webgpu-lenet-memory", () => backend!, -100);
    await T.setBackend("webgpu-lenet-memory");
    const model = new LeNet5();
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const rng = new T.RandomState(11);
    const x = T.tensor(rng.rand(4 * 28 * 28), { shape: [4, 1, 28, 28] });
    const y = T.tensor(new Int32Array([3, 1, 4, 1]));
    // lavapipe is a CPU: 200 steps of batch 4 keep this test short; the pool settles in the first steps.
    const steps = 200;
    const seen: string[] = [];
    for (let i = 0; i < steps; i++) {
      const loss = T.tidy(() => {
        const l = crossEntropyLoss(model.forward(x), y);
        l.backward();
        optimizer.step();
        optimizer.zeroGrad();
        return l;
      });
      if (i % 50 === 49) await loss.data(); // let queued work finish now and then, as training loops do
      loss.dispose();
      const m = T.memory();
      if (i >= 5) seen.push(JSON.stringify({ tensors: m.tensors, bytes: m.bytes, backend: m.backend }));
    }
    expect(new Set(seen).size).toBe(1);
    T.dispose([x, y]);
    model.dispose();
  }, 600_000);

  it("the same with the training step captured and replayed (T.capture, a compiled program)", async () => {
    const model = new LeNet5();
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const rng = new T.RandomState(12);
    const x = T.tensor(rng.rand(4 * 28 * 28), { shape: [4, 1, 28, 28] });
    const y = T.tensor(new Int32Array([3, 1, 4, 1]));
    const step = T.capture((images: T.Tensor, labels: T.Tensor) => {
      const l = crossEntropyLoss(model.forward(images), labels);
      l.backward();
      optimizer.step();
      optimizer.zeroGrad();
      return l;
    });
    const seen: string[] = [];
    for (let i = 0; i < 300; i++) {
      const loss = step(x, y);
      if (i % 50 === 49) await loss.data();
      loss.dispose();
      const m = T.memory();
      if (i >= 5) seen.push(JSON.stringify({ tensors: m.tensors, bytes: m.bytes, backend: m.backend }));
    }
    expect(step.stats().replayed).toBe(298);
    expect(new Set(seen).size).toBe(1);
    step.dispose();
    T.dispose([x, y]);
    model.dispose();
    optimizer.dispose();
    await T.removeBackend("webgpu-lenet-memory");
  }, 600_000);
});
