/**
 * Wall and process CPU time per LeNet-5 step on the active WebGPU adapter: training at batch 20
 * and 500 (eager, or captured with `--captured`) and inference at batch 500. On a software adapter
 * (lavapipe) the GPU work runs on this process's own threads, so the CPU time counts all of it and
 * suffers less than wall time from other processes on a shared machine. It uses only APIs that
 * predate `T.capture` in eager mode, so its built file runs against an older checkout's build too.
 *
 *   node dist/step-time.js [--captured]
 */
import "@tessera/autograd";
import "@tessera/backend-webgpu";
import { noGrad } from "@tessera/autograd";
import { batches, loadMnist } from "@tessera/datasets";
import { LeNet5, SGD, crossEntropyLoss } from "@tessera/nn";
import * as T from "@tessera/tensor";

const captured = process.argv.includes("--captured");

/** Milliseconds per call of `run` over `n` calls, the last one read back: wall and process CPU. */
async function timed(n: number, run: (i: number) => T.Tensor): Promise<{ wall: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let last: T.Tensor | null = null;
  for (let i = 0; i < n; i++) {
    last?.dispose();
    last = run(i);
  }
  await last!.data();
  last!.dispose();
  const c = process.cpuUsage(c0);
  return { wall: Number(((performance.now() - t0) / n).toFixed(1)), cpu: Number(((c.user + c.system) / 1000 / n).toFixed(1)) };
}

await T.setBackend("webgpu");
const { train, test } = await loadMnist();
const result: Record<string, unknown> = { step: captured ? "captured" : "eager" };
for (const [batch, warmup, n] of [
  [20, 6, 40],
  [500, 4, 6],
] as const) {
  const model = new LeNet5();
  const optimizer = new SGD(model.parameters(), { lr: 0.1 });
  const data = batches(train, { batchSize: batch });
  const cached = Array.from({ length: 4 }, (_, i) => data.batch(i));
  const body = (x: T.Tensor, y: T.Tensor) => {
    const loss = crossEntropyLoss(model.forward(x), y);
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return loss;
  };
  const step = captured ? T.capture(body) : (x: T.Tensor, y: T.Tensor) => T.tidy(() => body(x, y));
  const run = (i: number) => step(cached[i % 4]!.x, cached[i % 4]!.y);
  for (let i = 0; i < warmup; i++) await run(i).data();
  result[`train_b${batch}_ms`] = await timed(n, run);
  for (const { x, y } of cached) T.dispose([x, y]);
  model.dispose();
  optimizer.dispose();
}
const model = new LeNet5();
const evalData = batches(test, { batchSize: 500 });
const cached = Array.from({ length: 4 }, (_, i) => evalData.batch(i));
const infer = (i: number) => noGrad(() => T.tidy(() => T.argmax(model.forward(cached[i % 4]!.x), 1)));
for (let i = 0; i < 2; i++) await infer(i).data();
result.infer_b500_ms = await timed(10, infer);
console.log(`STEP_TIME ${JSON.stringify(result)}`);
for (const { x, y } of cached) T.dispose([x, y]);
model.dispose();
for (const b of T.listBackends().filter((b) => b.initialised)) await T.removeBackend(b.name);
