/**
 * LeNet-5 throughput with the protocol of shared/peers (the TensorFlow.js and PyTorch scripts):
 * real MNIST in order, plain SGD lr 0.1; (a) training at batch 20, (b) training at batch 500,
 * (c) inference (forward + argmax + read-back) at batch 500. Training steps are captured
 * (`T.capture`: recorded, then replayed; `--eager` runs them op by op). Each timed block ends with a read
 * from the device. Prints min / median / max images/s over reps, and the machine. On WebGPU it
 * also prints the adapter and one `HOST {...}` line: the host work per training step at batch 20
 * and 500 (see host-cost.ts). Dawn's flags come from TESSERA_WEBGPU_DAWN_FLAGS (for example
 * `backend=null`, which runs no shaders: only the host's work is left to measure), the kernels'
 * tuning from TESSERA_WEBGPU_KERNEL_TUNING (`gpu` or `software`; default: the adapter's kind).
 *
 *   node dist/lenet-bench.js [--backend cpu|webgpu|all] [--reps 3] [--seconds 4] [--eager]
 *     [--host-steps 20] [--host-warmup 30]   (3 and 4 on a software adapter)
 */
import "@tessera/autograd";
import "@tessera/backend-cpu";
import { noGrad } from "@tessera/autograd";
import { batches, loadMnist } from "@tessera/datasets";
import { LeNet5 } from "@tessera/nn";
import * as T from "@tessera/tensor";
import os from "node:os";
import { type HostCost, activeWebGPU, measureHostCost } from "./host-cost.js";
import { lenetTraining } from "./workload.js";

interface Stats {
  min: number;
  median: number;
  max: number;
  reps: number;
  itersPerRep: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const reps = Number(arg("reps", "3"));
/** Train with the eager step instead of the captured one (T.capture), for comparisons. */
const eager = process.argv.includes("--eager");
const seconds = Number(arg("seconds", "4"));
/** HOST's steps per rep and warm-up steps; a software adapter (lavapipe) takes seconds a step, so fewer there. */
const hostOptions = (software: boolean) => ({
  steps: Number(arg("host-steps", software ? "3" : "20")),
  warmup: Number(arg("host-warmup", software ? "4" : "30")),
});

function stats(rates: number[], itersPerRep: number): Stats {
  const s = [...rates].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]!, reps: rates.length, itersPerRep };
}

/** Runs `step` until `seconds` pass (at least `minIters`), reps times after a warm-up; images/s. */
async function measure(batch: number, step: (i: number) => T.Tensor, minIters: number): Promise<Stats> {
  // Warm-up: compile kernels, fill pools, let V8 optimise; a captured step records twice, then
  // compiles its program at the first replay (new fused kernels: seconds of LLVM on lavapipe).
  for (let i = 0; i < 4; i++)
    await step(i)
      .data()
      .then(() => {});
  // Size the reps from one timed probe so each lasts about `seconds`.
  const t0 = performance.now();
  const probe = step(0);
  await probe.data();
  probe.dispose();
  const perIter = (performance.now() - t0) / 1000;
  const iters = Math.max(minIters, Math.round(seconds / Math.max(perIter, 1e-6)));
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    let last: T.Tensor | null = null;
    for (let i = 0; i < iters; i++) {
      last?.dispose();
      last = step(i);
    }
    await last!.data();
    last!.dispose();
    rates.push((iters * batch) / ((performance.now() - start) / 1000));
  }
  return stats(rates, iters);
}

async function benchBackend(name: string): Promise<Record<string, unknown>> {
  await T.setBackend(name);
  const { train, test } = await loadMnist();
  const result: Record<string, unknown> = { backend: name, step: eager ? "eager" : "captured" };
  const gpu = activeWebGPU();
  if (gpu) {
    const a = gpu.adapter;
    result.adapter = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(" / ") + (a.isFallbackAdapter ? " (fallback adapter)" : "");
    result.kernel_tuning = gpu.kernelTuning;
    const host: Record<string, HostCost> = {};
    const cpuMs: Record<string, number> = {};
    for (const batch of [20, 500]) {
      const { cpu_ms, ...cost } = await measureHostCost(gpu, train, { batch, reps, eager, ...hostOptions(a.isFallbackAdapter) });
      host[`b${batch}`] = cost;
      cpuMs[`b${batch}`] = cpu_ms;
    }
    result.host = host;
    result.host_cpu_ms = cpuMs;
  }
  for (const batch of [20, 500]) {
    const training = lenetTraining(train, batch, 20, { eager });
    result[`train_b${batch}`] = await measure(batch, training.step, 1);
    training.dispose();
  }
  const model = new LeNet5();
  const evalData = batches(test, { batchSize: 500 });
  const cached = Array.from({ length: evalData.length }, (_, i) => evalData.batch(i));
  result.infer_b500 = await measure(500, (i) => noGrad(() => T.tidy(() => T.argmax(model.forward(cached[i % cached.length]!.x), 1))), 1);
  for (const { x, y } of cached) T.dispose([x, y]);
  model.dispose();
  const mem = T.memory();
  result.memory = { tensors: mem.tensors, bytes: mem.bytes, backend: mem.backend };
  result.peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  return result;
}

function fmt(s: unknown): string {
  const v = s as Stats | undefined;
  return v ? `${v.min.toFixed(1)} / ${v.median.toFixed(1)} / ${v.max.toFixed(1)} (${v.reps}x${v.itersPerRep})` : "-";
}

const which = arg("backend", "cpu");
const names = which === "all" ? ["cpu", "webgpu"] : [which];
if (names.includes("webgpu")) await import("@tessera/backend-webgpu");
const cpu = os.cpus();
console.log(`machine: ${cpu[0]?.model ?? "unknown"} x${cpu.length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
console.log("backend  | train B=20 img/s min / median / max (reps x iters) | train B=500 | infer B=500");
for (const name of names) {
  try {
    const r = await benchBackend(name);
    console.log(`${name.padEnd(8)} | ${fmt(r.train_b20)} | ${fmt(r.train_b500)} | ${fmt(r.infer_b500)}`);
    if (r.adapter) console.log(`adapter: ${String(r.adapter)}; kernel tuning ${String(r.kernel_tuning)}`);
    if (r.host) console.log(`HOST ${JSON.stringify(r.host)}`);
    console.log(`RESULT ${JSON.stringify(r)}`);
  } catch (e) {
    console.log(`${name.padEnd(8)} | failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
const active = T.listBackends().filter((b) => b.initialised);
for (const b of active) await T.removeBackend(b.name);
