import { describe, expect, it } from "vitest";
import "../src/index.js";
import * as T from "@tessera/tensor";

describe("smoke", () => {
  it("runs basic ops", async () => {
    const a = T.tensor([[1, 2, 3], [4, 5, 6]]);
    const b = T.tensor([10, 20, 30]);
    expect(await T.add(a, b).array()).toEqual([[11, 22, 33], [14, 25, 36]]);
    expect(await T.sum(a, 1).array()).toEqual([6, 15]);
    expect(await T.matmul(a, T.transpose(a)).array()).toEqual([[14, 32], [32, 77]]);
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
