/**
 * Where a LeNet-5 training step's time goes on the CPU backend: every backend call of a real
 * step (nn's LeNet5 on MNIST, cross-entropy, SGD) is timed and summed by kind and shape.
 * A tool for kernel work, not a benchmark: the timing wrappers add a little to each call.
 *
 *   node dist/step-profile.js [--batch 500] [--steps 20] [--threads 2] [--top 20]
 */
import "@tessera/autograd";
import { createCpuBackend } from "@tessera/backend-cpu";
import { loadMnist } from "@tessera/datasets";
import * as T from "@tessera/tensor";
import { lenetTraining } from "./workload.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}

const batch = arg("batch", 500);
const steps = arg("steps", 20);
const threads = arg("threads", 2) === 1 ? 1 : 2;
const top = arg("top", 20);

const cpu = createCpuBackend({ threads });
await cpu.ready();
T.registerBackend("profiled-cpu", () => cpu, -1);
await T.setBackend("profiled-cpu");

/** Milliseconds and calls by label, counted while `recording`. */
const totals = new Map<string, { ms: number; calls: number }>();
let recording = false;

type Method = (...args: never[]) => unknown;
const shapeOf = (v: unknown): string => {
  const view = v as { shape?: readonly number[]; size?: number } | undefined;
  return view?.shape ? `[${view.shape.join(",")}]` : view?.size !== undefined ? `(${view.size})` : "";
};

/** Replaces `target[name]` with a timed copy labelled by `label(args)`. */
function time(target: Record<string, unknown>, name: string, label: (args: unknown[]) => string): void {
  const original = target[name] as Method | undefined;
  if (typeof original !== "function") return;
  target[name] = function (this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    const result = (original as (...a: unknown[]) => unknown).apply(this, args);
    if (recording) {
      const key = label(args);
      const entry = totals.get(key) ?? { ms: 0, calls: 0 };
      entry.ms += performance.now() - t0;
      entry.calls++;
      totals.set(key, entry);
    }
    return result;
  };
}

const backend = cpu as unknown as Record<string, unknown>;
time(backend, "unary", (a) => `unary ${String(a[0])} ${shapeOf(a[1])}`);
time(backend, "binary", (a) => `binary ${String(a[0])} ${shapeOf(a[1])}`);
time(backend, "reduce", (a) => `reduce ${String(a[0])} ${String(a[2])}x${String(a[3])}`);
time(backend, "copy", (a) => `copy ${shapeOf(a[0])}`);
for (const name of ["where", "fill", "alloc", "free", "write"]) time(backend, name, () => name);
const kernels = (cpu.kernels ?? {}) as Record<string, unknown>;
for (const name of Object.keys(kernels)) {
  time(
    kernels,
    name,
    (a) =>
      `${name} ${a
        .filter((v) => Array.isArray(v) && v.length === 4)
        .map((v) => `[${(v as number[]).join(",")}]`)
        .join(" ")}`,
  );
}

const { train } = await loadMnist();
const training = lenetTraining(train, batch, 10, { eager: true });
const step = training.step;
for (let i = 0; i < 3; i++) {
  const loss = step(i);
  await loss.data();
  loss.dispose();
}
recording = true;
const start = performance.now();
let last: T.Tensor | undefined;
for (let i = 0; i < steps; i++) {
  last?.dispose();
  last = step(i);
}
await last!.data();
const wall = performance.now() - start;
recording = false;
last!.dispose();

const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
const inBackend = rows.reduce((s, [, v]) => s + v.ms, 0);
console.log(`LeNet-5 step profile: batch ${batch}, ${threads} thread(s), ${steps} steps`);
console.log(`${(wall / steps).toFixed(1)} ms/step, ${(inBackend / steps).toFixed(1)} ms of it in backend calls\n`);
console.log("| ms/step | calls/step | call |\n|---:|---:|---|");
for (const [key, v] of rows.slice(0, top)) console.log(`| ${(v.ms / steps).toFixed(2)} | ${v.calls / steps} | ${key} |`);
console.log(`\nkernel jobs: ${JSON.stringify(cpu.kernelStats())}`);
training.dispose();
await T.removeBackend("profiled-cpu");
