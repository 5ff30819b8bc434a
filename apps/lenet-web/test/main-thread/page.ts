/**
 * The CPU backend on a page's main thread, where `Atomics.wait` is not allowed: a LeNet-5
 * training step on two threads (the worker joins in a cross-origin isolated page) and on one,
 * whose weights must be bit-identical. Reports to `window.__mainThread`.
 */
import "@tessera/autograd";
import { type CpuBackend, createCpuBackend } from "@tessera/backend-cpu";
import { crossEntropyLoss, LeNet5, SGD } from "@tessera/nn";
import * as T from "@tessera/tensor";

/** What the page reports. */
export interface MainThreadReport {
  done: boolean;
  error?: string;
  runs: Array<{ engine: string; threads: number; jobsShared: number; weights: number[] }>;
}

const report: MainThreadReport = { done: false, runs: [] };
(window as unknown as { __mainThread: MainThreadReport }).__mainThread = report;

async function step(threads: 1 | 2): Promise<void> {
  const name = `cpu-${threads}`;
  const backend: CpuBackend = createCpuBackend({ name, threads });
  T.registerBackend(name, () => backend, -100);
  await T.setBackend(name);
  await backend.ready();
  const rng = new T.RandomState(5);
  const x = T.tensor(rng.uniform(0, 1, 40 * 784), { shape: [40, 1, 28, 28] });
  const y = T.tensor(Int32Array.from({ length: 40 }, (_, i) => i % 10));
  const model = new LeNet5();
  const optimizer = new SGD(model.parameters(), { lr: 0.1 });
  for (let i = 0; i < 3; i++) {
    T.tidy(() => crossEntropyLoss(model.forward(x), y).backward());
    optimizer.step();
    optimizer.zeroGrad();
  }
  const weights = [...(await model.conv2.weight.data()), ...(await model.fc1.weight.data())];
  report.runs.push({ engine: backend.engine, threads: backend.threads, jobsShared: backend.kernelStats()?.jobs ?? 0, weights: Array.from(weights) });
  T.dispose([x, y]);
  model.dispose();
  await T.removeBackend(name);
}

(async () => {
  await step(2);
  await step(1);
})()
  .catch((e: unknown) => {
    report.error = e instanceof Error ? e.message : String(e);
  })
  .finally(() => {
    report.done = true;
  });
