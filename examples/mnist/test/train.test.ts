import { describe, expect, it } from "vitest";
import { trainAndEvaluate } from "../src/train.js";

describe("the README example", () => {
  it("learns MNIST: one pass over 2,000 images beats chance by far", async () => {
    const error = await trainAndEvaluate(2000, 1000);
    expect(error).toBeLessThan(25);
  }, 300_000);
});
