import { describe, expect, it } from "vitest";
import "@tessera/backend-cpu";
import "@tessera/autograd";
import * as T from "@tessera/tensor";
import { LeNet5, SGD, crossEntropyLoss } from "../src/index.js";

describe("LeNet5 smoke", () => {
  it("trains a few steps", () => {
    const model = new LeNet5();
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const x = T.rand([20, 1, 28, 28]);
    const y = T.tensor(Int32Array.from({ length: 20 }, (_, i) => i % 10));
    const losses: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) {
      T.tidy(() => {
        const loss = crossEntropyLoss(model.forward(x), y);
        loss.backward();
        opt.step();
        opt.zeroGrad();
        losses.push(loss.item());
      });
    }
    console.log("ms/step b20", (performance.now() - t0) / 5, losses, T.memory());
    expect(losses[4]).toBeLessThan(losses[0]!);
  });
});
