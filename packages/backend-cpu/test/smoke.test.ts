import { describe, expect, it } from "vitest";
import "../src/index.js";
import * as T from "@tessera/tensor";

describe("smoke", () => {
  it("runs basic ops", async () => {
    const a = T.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = T.tensor([10, 20, 30]);
    expect(await T.add(a, b).array()).toEqual([
      [11, 22, 33],
      [14, 25, 36],
    ]);
    expect(await T.sum(a, 1).array()).toEqual([6, 15]);
    expect(await T.matmul(a, T.transpose(a)).array()).toEqual([
      [14, 32],
      [32, 77],
    ]);
    expect(await a.transpose().reshape([6]).array()).toEqual([1, 4, 2, 5, 3, 6]);
    expect(await T.argmax(a, 1).array()).toEqual([2, 2]);
    const x = T.rand([2, 3, 8, 8]);
    const w = T.rand([4, 3, 3, 3]);
    const y = T.conv2d(x, w, { padding: 1, stride: 2 });
    expect(y.shape).toEqual([2, 4, 4, 4]);
    const p = T.maxPool2d(x, { kernelSize: 2 });
    expect(p.shape).toEqual([2, 3, 4, 4]);
    expect(T.logSoftmax(a).shape).toEqual([2, 3]);
  });
});

describe("moving tensors between backends", () => {
  it("to() copies onto another initialised backend", async () => {
    const { createCpuBackend } = await import("../src/backend.js");
    T.registerBackend("cpu-other", () => createCpuBackend({ name: "cpu-other" }));
    await T.setBackend("cpu-other");
    await T.setBackend("cpu");
    const a = T.tensor([
      [1, 2],
      [3, 4],
    ]);
    const b = await T.transpose(a).to("cpu-other");
    expect(b.backend.name).toBe("cpu-other");
    expect(await b.array()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(() => T.add(a, b)).toThrow(/^add: inputs live on different backends \('cpu' and 'cpu-other'\)/);
    await expect(a.to("nope")).rejects.toThrow(/^to: backend 'nope' is not initialised/);
    T.dispose([a, b]);
    await T.removeBackend("cpu-other");
  });
});
