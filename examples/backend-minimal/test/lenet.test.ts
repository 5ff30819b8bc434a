import "@tessera/autograd";
import { batches, loadMnist } from "@tessera/datasets";
import { LeNet5, SGD, crossEntropyLoss } from "@tessera/nn";
import * as T from "@tessera/tensor";
import { describe, expect, it } from "vitest";
import "../src/index.js";

describe("LeNet-5 on the minimal backend", () => {
  // LeCun's original widths (6 and 16 maps, 120 hidden units) keep this under a minute: every
  // matmul and convolution here is composed from primitives by the core.
  it("trains on 300 MNIST images and the loss falls", async () => {
    await T.setBackend("minimal");
    const { train } = await loadMnist();
    const model = new LeNet5({ kernels: [6, 16], hidden: 120 });
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const losses: number[] = [];
    const data = batches(train.slice(0, 300), { batchSize: 20 });
    for (let epoch = 0; epoch < 2; epoch++) {
      for (const { x, y } of data) {
        T.tidy(() => {
          const loss = crossEntropyLoss(model.forward(x), y);
          loss.backward();
          optimizer.step();
          optimizer.zeroGrad();
          losses.push(loss.item());
        });
        T.dispose([x, y]);
      }
    }
    const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(last).toBeLessThan(first * 0.8);
    expect(T.getBackendName()).toBe("minimal");
  }, 600_000);
});
