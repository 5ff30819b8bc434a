import { readFile } from "node:fs/promises";
import * as T from "@tessera/tensor";
import { describe, expect, it } from "vitest";
import { trainAndEvaluate } from "../src/train.js";

describe("the README example", () => {
  it("learns MNIST: one pass over 2,000 images beats chance by far, and frees every tensor", async () => {
    const before = T.memory().tensors;
    const error = await trainAndEvaluate(2000, 1000);
    expect(error).toBeLessThan(25);
    expect(T.memory().tensors).toBe(before);
  }, 300_000);

  it("is the README's code, line for line: the runnable copy only takes the image counts as parameters", async () => {
    const readme = await readFile(new URL("../../../README.md", import.meta.url), "utf8");
    const block = /## Example: define a model, train on MNIST, evaluate\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    if (!block) throw new Error("README.md: no ```ts block under '## Example: define a model, train on MNIST, evaluate'");
    const lines = block.trimEnd().split("\n");
    expect(lines.length, "the issue asks for a 20-line example").toBeLessThanOrEqual(22);
    const runnable = new Set((await readFile(new URL("../src/train.ts", import.meta.url), "utf8")).split("\n").map((l) => l.trim()));
    // train.ts reads its image counts from parameters and returns the error instead of printing it.
    const asInRunnable = (l: string) =>
      l.replace("train.slice(0, 5000)", "train.slice(0, trainImages)").replace("batches(test,", "batches(evalSet,").replace("test.count", "evalSet.count");
    const missing = lines
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("console.log("))
      .filter((l) => !runnable.has(asInRunnable(l)));
    expect(missing, "README lines that examples/mnist/src/train.ts lacks").toEqual([]);
  });
});
