/**
 * Where a LeNet-5 training step's time goes on the WebGPU backend. Every backend call of one eager
 * step is recorded (with freeing held back, so every buffer stays valid); then each distinct call
 * is issued `reps` times in a row between two waits on the GPU. Calls queue up without waiting, so
 * a call's time is what the device takes for it, or the host's cost per call where that is larger.
 * A tool for kernel work, not a benchmark (the step it profiles is the eager one, unfused).
 *
 *   node dist/gpu-profile.js [--batch 500] [--reps 40] [--top 25]
 * The kernels are tuned as TESSERA_WEBGPU_KERNEL_TUNING says (default: for the adapter), so one
 * machine can compare both tunings.
 */
import "@tessera/autograd";
import { createWebGPUBackend } from "@tessera/backend-webgpu";
import { loadMnist } from "@tessera/datasets";
import * as T from "@tessera/tensor";
import { lenetTraining } from "./workload.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}

const batch = arg("batch", 500);
const reps = arg("reps", 40);
const top = arg("top", 25);

const gpu = await createWebGPUBackend();
T.registerBackend("profiled-webgpu", () => gpu, -1);
await T.setBackend("profiled-webgpu");

type Method = (...args: unknown[]) => unknown;
interface Call {
  key: string;
  run: () => void;
}
let recording = false;
const calls: Call[] = [];
const heldBack: T.BackendBuffer[] = [];

const shapeOf = (v: unknown): string => {
  const view = v as { shape?: readonly number[]; size?: number } | undefined;
  return view?.shape ? `[${view.shape.join(",")}]` : view?.size !== undefined ? `(${view.size})` : "";
};
const shapes = (a: unknown[]): string =>
  a
    .filter((v) => Array.isArray(v) && v.length === 4)
    .map((v) => `[${(v as number[]).join(",")}]`)
    .join(" ");

/** Replaces `target[name]` with a copy that records its calls (label and arguments) while `recording`. */
function record(target: Record<string, unknown>, name: string, label: (args: unknown[]) => string): void {
  const original = target[name] as Method | undefined;
  if (typeof original !== "function") return;
  target[name] = function (this: unknown, ...args: unknown[]) {
    if (recording) calls.push({ key: label(args), run: () => original.apply(this, args) });
    return original.apply(this, args);
  };
}

const backend = gpu as unknown as Record<string, unknown>;
record(backend, "unary", (a) => `unary ${String(a[0])} ${shapeOf(a[1])}`);
record(backend, "binary", (a) => `binary ${String(a[0])} ${shapeOf(a[1])} ${shapeOf(a[2])}`);
record(backend, "where", (a) => `where ${shapeOf(a[0])}`);
record(backend, "reduce", (a) => `reduce ${String(a[0])} ${String(a[2])}x${String(a[3])}`);
record(backend, "copy", (a) => `copy ${shapeOf(a[0])}`);
record(backend, "fill", (a) => `fill ${shapeOf(a[0])}`);
const kernels = gpu.kernels as Record<string, unknown>;
for (const name of Object.keys(kernels)) {
  record(kernels, name, (a) => (name === "matmul" ? `matmul ${shapeOf(a[0])} ${shapeOf(a[1])}` : `${name} ${shapes(a)}`));
}
const free = gpu.free.bind(gpu);
gpu.free = (b: T.BackendBuffer) => {
  if (recording) heldBack.push(b);
  else free(b);
};

const { train } = await loadMnist();
const training = lenetTraining(train, batch, 4, { eager: true });
for (let i = 0; i < 3; i++) {
  const loss = training.step(i);
  await loss.data();
  loss.dispose();
}

/** Milliseconds per issue of `run`, issued `reps` times between two waits. */
async function timed(run: () => void): Promise<number> {
  await gpu.sync();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) run();
  await gpu.sync();
  return (performance.now() - t0) / reps;
}

await gpu.sync();
const t0 = performance.now();
recording = true;
const loss = training.step(3);
recording = false;
await gpu.sync();
const stepMs = performance.now() - t0;

const byKey = new Map<string, { count: number; run: () => void }>();
for (const c of calls) {
  const entry = byKey.get(c.key);
  if (entry) entry.count++;
  else byKey.set(c.key, { count: 1, run: c.run });
}
const emptySync = await timed(() => {});
const rows: { key: string; count: number; ms: number }[] = [];
for (const [key, { count, run }] of byKey) rows.push({ key, count, ms: await timed(run) });
rows.sort((a, b) => b.ms * b.count - a.ms * a.count);
const total = rows.reduce((s, r) => s + r.ms * r.count, 0);

console.log(
  `LeNet-5 eager step on ${gpu.adapter.vendor} ${gpu.adapter.architecture} ${gpu.adapter.description}, kernel tuning ${gpu.kernelTuning}: batch ${batch}, ${calls.length} backend calls`,
);
console.log(
  `one eager step ${stepMs.toFixed(2)} ms; the calls one by one ${total.toFixed(2)} ms (each issued ${reps} times; an empty wait ${emptySync.toFixed(3)} ms/rep)\n`,
);
console.log("| ms/step | calls/step | ms/call | call |\n|---:|---:|---:|---|");
for (const r of rows.slice(0, top)) console.log(`| ${(r.ms * r.count).toFixed(3)} | ${r.count} | ${r.ms.toFixed(4)} | ${r.key} |`);

loss.dispose();
for (const b of heldBack) free(b);
training.dispose();
await T.removeBackend("profiled-webgpu");
