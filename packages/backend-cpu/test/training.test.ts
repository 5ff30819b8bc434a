import { noGrad } from "@tessera/autograd";
import * as T from "@tessera/tensor";
import { describe, expect, test } from "vitest";
import { type CpuBackend, type CpuBackendOptions, createCpuBackend } from "../src/backend.js";

/** Mean NLL of `logits` against labels `y`, its backward pass and a plain SGD update (lr 0.1). */
function sgdStep(params: T.Tensor[], logits: T.Tensor, y: T.Tensor): T.Tensor {
  const loss = T.neg(T.mean(T.sum(T.mul(T.logSoftmax(logits), T.oneHot(y, 10)), 1)));
  loss.backward();
  noGrad(() => {
    for (const p of params) {
      p.assign(T.sub(p, T.mul(p.grad!, 0.1)));
      p.grad!.dispose();
      p.grad = null;
    }
  });
  return loss;
}

/** Each parameter's float32 bit patterns, for exact comparisons. */
async function weightBits(params: T.Tensor[]): Promise<number[][]> {
  return Promise.all(params.map(async (p) => Array.from(new Uint32Array((await p.data()).buffer))));
}

/**
 * A small LeNet-like net (conv 5x5 → max-pool → tanh → conv 3x3 → max-pool → tanh → dense →
 * log-softmax, NLL loss) trained with plain SGD on a fixed random batch; every op runs on
 * `backend`. Returns the loss of each step, the final weights' bits, and the arena's bytes in
 * use and the core's live tensors and bytes after each step.
 */
async function train(options: CpuBackendOptions, steps: number) {
  const backend: CpuBackend = createCpuBackend(options);
  await backend.ready();
  const name = `training-${options.kernels ?? "wasm"}-${options.threads ?? "auto"}`;
  T.registerBackend(name, () => backend, -100);
  await T.setBackend(name);
  try {
    const rng = new T.RandomState(5);
    const batch = 12;
    const x = T.tensor(rng.normal(0, 1, batch * 16 * 16), { shape: [batch, 1, 16, 16] });
    const y = T.tensor(Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10));
    const params = [
      T.tensor(rng.uniform(-0.4, 0.4, 6 * 25), { shape: [6, 1, 5, 5] }),
      T.tensor(rng.uniform(-0.2, 0.2, 12 * 6 * 9), { shape: [12, 6, 3, 3] }),
      T.tensor(rng.uniform(-0.3, 0.3, 48 * 10), { shape: [48, 10] }),
      T.zeros([10]),
    ];
    for (const p of params) p.requiresGrad = true;
    const [w1, w2, v, b] = params as [T.Tensor, T.Tensor, T.Tensor, T.Tensor];
    const losses: number[] = [];
    const arenaBytes: number[] = [];
    const live: string[] = [];
    for (let step = 0; step < steps; step++) {
      const loss = T.tidy(() => {
        const h1 = T.tanh(T.maxPool2d(T.conv2d(x, w1), { kernelSize: 2 }));
        const h2 = T.tanh(T.maxPool2d(T.conv2d(h1, w2), { kernelSize: 2 }));
        return sgdStep(params, T.add(T.matmul(T.reshape(h2, [batch, 48]), v), b), y);
      });
      losses.push((await loss.data())[0]!);
      loss.dispose();
      arenaBytes.push(backend.arena()?.bytesInUse ?? 0);
      const m = T.memory(backend);
      live.push(`${m.tensors} tensors, ${m.bytes} bytes`);
    }
    const weights = await weightBits(params);
    T.dispose([x, y, params]);
    return { engine: backend.engine, threads: backend.threads, stats: backend.kernelStats(), losses, weights, arenaBytes, live };
  } finally {
    await T.removeBackend(name);
  }
}

/**
 * LeNet-5 itself (28x28 → conv 5x5 ×20 → pool → +b → tanh → conv 5x5 ×50 → pool → +b → tanh →
 * 800 → 500 tanh → 10), SGD on a fixed random batch: every kernel of a real training step,
 * the 2x2 SIMD pooling and the direct conv1 weight gradient included. Losses and weight bits.
 */
async function trainLeNet(options: CpuBackendOptions, steps: number) {
  const backend: CpuBackend = createCpuBackend(options);
  await backend.ready();
  const name = `lenet-${options.threads ?? "auto"}`;
  T.registerBackend(name, () => backend, -100);
  await T.setBackend(name);
  try {
    const rng = new T.RandomState(7);
    const batch = 16;
    const u = (shape: number[], bound: number) =>
      T.tensor(
        rng.uniform(
          -bound,
          bound,
          shape.reduce((a, b) => a * b, 1),
        ),
        { shape },
      );
    const x = T.tensor(rng.uniform(0, 1, batch * 784), { shape: [batch, 1, 28, 28] });
    const y = T.tensor(Int32Array.from({ length: batch }, (_, i) => (i * 3) % 10));
    const params = [
      u([20, 1, 5, 5], 0.35),
      T.zeros([20]),
      u([50, 20, 5, 5], 0.08),
      T.zeros([50]),
      u([500, 800], 0.07),
      T.zeros([500]),
      u([10, 500], 0.05),
      T.zeros([10]),
    ];
    for (const p of params) p.requiresGrad = true;
    const [w1, b1, w2, b2, w3, b3, w4, b4] = params as [T.Tensor, T.Tensor, T.Tensor, T.Tensor, T.Tensor, T.Tensor, T.Tensor, T.Tensor];
    const layer = (h: T.Tensor, w: T.Tensor, b: T.Tensor) =>
      T.tanh(T.add(T.maxPool2d(T.conv2d(h, w), { kernelSize: 2 }), T.reshape(b, [1, b.shape[0]!, 1, 1])));
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      const loss = T.tidy(() => {
        const h = T.flatten(layer(layer(x, w1, b1), w2, b2), 1);
        return sgdStep(params, T.add(T.matmul(T.tanh(T.add(T.matmul(h, T.transpose(w3)), b3)), T.transpose(w4)), b4), y);
      });
      losses.push((await loss.data())[0]!);
      loss.dispose();
    }
    const weights = await weightBits(params);
    T.dispose([x, y, params]);
    return { threads: backend.threads, stats: backend.kernelStats(), losses, weights };
  } finally {
    await T.removeBackend(name);
  }
}

describe("training LeNet-5", () => {
  test("1 and 2 threads give bit-identical losses and weights", async () => {
    const one = await trainLeNet({ threads: 1 }, 4);
    const two = await trainLeNet({ threads: 2, parallelMinFlops: 0, awaitWorker: true }, 4);
    expect([one.threads, two.threads]).toEqual([1, 2]);
    // the worker computed part of every call shared with it (awaitWorker makes the caller
    // wait for its first chunk, so this holds however busy the machine is)
    expect(two.stats!.jobs).toBeGreaterThan(0);
    expect(two.stats!.workerJobs).toBe(two.stats!.jobs);
    expect(two.stats!.soloJobs).toBe(0);
    expect(one.losses[3]!).toBeLessThan(one.losses[0]!);
    expect(two.losses).toEqual(one.losses);
    expect(two.weights).toEqual(one.weights);
  });
});

describe("training a small conv net", () => {
  test("1 and 2 threads give bit-identical losses and weights, close to the TypeScript kernels'", async () => {
    const one = await train({ threads: 1 }, 6);
    const two = await train({ threads: 2, parallelMinFlops: 0, awaitWorker: true }, 6);
    const js = await train({ kernels: "js" }, 6);
    expect([one.engine, one.threads]).toEqual(["wasm", 1]);
    expect([two.engine, two.threads]).toEqual(["wasm", 2]);
    expect(js.engine).toBe("js");
    // the worker did take part: it ran chunks of every job shared with it
    expect(two.stats!.jobs).toBeGreaterThan(0);
    expect(two.stats!.workerJobs).toBe(two.stats!.jobs);
    expect(two.stats!.soloJobs).toBe(0);
    // the net learns, so the comparison is about real gradients
    expect(one.losses[5]!).toBeLessThan(one.losses[0]! * 0.9);
    expect(two.losses).toEqual(one.losses);
    expect(two.weights).toEqual(one.weights);
    // float32 sums in a different order than the reference's float64 ones: close, not equal
    for (let i = 0; i < 6; i++) expect(Math.abs(one.losses[i]! - js.losses[i]!)).toBeLessThan(1e-4 * Math.abs(js.losses[i]!));
  });

  test("memory stays flat over training steps: live tensors, their bytes, and the arena's bytes in use", async () => {
    const run = await train({ threads: 2 }, 30);
    // the first step sizes the kernels' scratch; after it nothing is allocated for good
    expect(new Set(run.arenaBytes.slice(1)).size).toBe(1);
    expect(new Set(run.live).size).toBe(1);
    expect(run.arenaBytes[1]).toBeGreaterThan(0);
  });
});
