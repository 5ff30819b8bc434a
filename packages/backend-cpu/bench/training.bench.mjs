#!/usr/bin/env node
/**
 * LeNet-5 training and inference throughput of the CPU backend for each kernel set and
 * thread count, the shared memory each configuration grew to, the process's peak RSS, and (with
 * --ops) milliseconds per call of LeNet's ops.
 *
 *   node packages/backend-cpu/bench/training.bench.mjs [--threads 1,2] [--batches 20,500]
 *       [--seconds 2] [--reps 3] [--js] [--ops]
 *
 * Runs on the built packages (`pnpm --filter @tessera/backend-cpu bench` builds this one;
 * @tessera/tensor and @tessera/autograd must be built too). The net is LeNet-5 as @tessera/nn
 * builds it (conv 5x5 → max-pool → +b → tanh, twice; dense 800→500 tanh; dense 500→10;
 * cross-entropy; SGD lr 0.1), written with tensor ops so it needs no other package, on random
 * images (throughput does not depend on the data). Images/s: median of --reps timed runs of
 * about --seconds each, after warm-up steps; each run ends with a read of the last loss.
 */
import { noGrad } from "@tessera/autograd";
import * as T from "@tessera/tensor";
import { cpus } from "node:os";
import { createCpuBackend } from "../dist/index.js";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const THREADS = option("threads", "1,2").split(",").map(Number);
const BATCHES = option("batches", "20,500").split(",").map(Number);
const SECONDS = Number(option("seconds", "2"));
const REPS = Number(option("reps", "3"));

/** LeNet-5's parameters, drawn from a seeded generator. */
function lenet(rng) {
  const u = (shape, bound) =>
    T.tensor(
      rng.uniform(
        -bound,
        bound,
        shape.reduce((a, b) => a * b, 1),
      ),
      { shape },
    );
  const params = {
    w1: u([20, 1, 5, 5], Math.sqrt(3 / 25)),
    b1: T.zeros([20]),
    w2: u([50, 20, 5, 5], Math.sqrt(3 / 500)),
    b2: T.zeros([50]),
    w3: u([500, 800], Math.sqrt(6 / 1300)),
    b3: T.zeros([500]),
    w4: T.zeros([10, 500]),
    b4: T.zeros([10]),
  };
  for (const p of Object.values(params)) p.requiresGrad = true;
  return params;
}

/** Logits [N, 10] of images [N, 1, 28, 28]. */
function forward(p, x) {
  return T.tidy(() => {
    const layer = (h, w, b) => T.tanh(T.add(T.maxPool2d(T.conv2d(h, w), { kernelSize: 2 }), T.reshape(b, [1, b.shape[0], 1, 1])));
    const h0 = layer(x, p.w1, p.b1);
    const h1 = layer(h0, p.w2, p.b2);
    const h2 = T.tanh(T.add(T.matmul(T.flatten(h1, 1), T.transpose(p.w3)), p.b3));
    return T.add(T.matmul(h2, T.transpose(p.w4)), p.b4);
  });
}

function trainStep(p, x, y) {
  return T.tidy(() => {
    const loss = T.neg(T.mean(T.sum(T.mul(T.logSoftmax(forward(p, x), 1), T.oneHot(y, 10)), 1)));
    loss.backward();
    noGrad(() => {
      for (const t of Object.values(p)) {
        t.assign(T.sub(t, T.mul(t.grad, 0.1)));
        t.grad.dispose();
        t.grad = null;
      }
    });
    return loss;
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Images/s of `step` (which returns a tensor to read), median of REPS runs. */
async function imagesPerSecond(batch, step) {
  for (let i = 0; i < 3; i++) {
    const t = step();
    await t.data();
    t.dispose();
  }
  const t0 = performance.now();
  const probe = step();
  await probe.data();
  probe.dispose();
  const iters = Math.max(1, Math.round((SECONDS * 1000) / (performance.now() - t0)));
  const rates = [];
  for (let r = 0; r < REPS; r++) {
    const start = performance.now();
    let last = null;
    for (let i = 0; i < iters; i++) {
      last?.dispose();
      last = step();
    }
    await last.data();
    last.dispose();
    rates.push((iters * batch) / ((performance.now() - start) / 1000));
  }
  return `${median(rates).toFixed(0)} (${REPS}x${iters})`;
}

/** Milliseconds per call of each of LeNet's heavy ops and a few elementwise ones, at batch B. */
function opTimes(B) {
  const r = new T.RandomState(2);
  const t = (shape) =>
    T.tensor(
      r.uniform(
        -1,
        1,
        shape.reduce((a, b) => a * b, 1),
      ),
      { shape },
    );
  const [x, w1, w2, h0, x2, h1, a3, w3, d3] = [
    [B, 1, 28, 28],
    [20, 1, 5, 5],
    [50, 20, 5, 5],
    [B, 20, 24, 24],
    [B, 20, 12, 12],
    [B, 50, 8, 8],
    [B, 800],
    [500, 800],
    [B, 500],
  ].map(t);
  const ops = {
    "conv1 forward": () => T.conv2d(x, w1),
    "conv1 dW": () => T.conv2dBackwardWeight(x, h0, [20, 1, 5, 5]),
    "conv2 forward": () => T.conv2d(x2, w2),
    "conv2 dX": () => T.conv2dBackwardInput(h1, w2, [B, 20, 12, 12]),
    "conv2 dW": () => T.conv2dBackwardWeight(x2, h1, [50, 20, 5, 5]),
    "fc1 forward": () => T.matmul(a3, T.transpose(w3)),
    "fc1 dX": () => T.matmul(d3, w3),
    "fc1 dW": () => T.matmul(T.transpose(d3), a3),
    "max-pool 1": () => T.maxPool2d(h0, { kernelSize: 2 }),
    "max-pool 1 backward": () => T.maxPool2dBackward(h0, x2, { kernelSize: 2 }),
    "tanh [B,20,12,12]": () => T.tanh(x2),
  };
  const out = {};
  for (const [name, op] of Object.entries(ops)) {
    T.tidy(op).dispose();
    const reps = 5;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) T.tidy(op).dispose();
    out[name] = ((performance.now() - t0) / reps).toFixed(2);
  }
  T.dispose([x, w1, w2, h0, x2, h1, a3, w3, d3]);
  return out;
}

const configs = [
  ...(args.includes("--js") ? [{ label: "js", options: { kernels: "js" }, batches: [20], infer: false }] : []),
  ...THREADS.map((threads) => ({ label: `wasm, ${threads} thread${threads > 1 ? "s" : ""}`, options: { threads }, batches: BATCHES, infer: true })),
];
console.log(`LeNet-5 images/s (median of ${REPS}); ${cpus()[0]?.model ?? "?"} x${cpus().length}, Node ${process.versions.node}`);
const rows = [];
const opRows = [];
for (const c of configs) {
  const backend = createCpuBackend(c.options);
  await backend.ready();
  T.registerBackend("bench", () => backend, -100);
  await T.setBackend("bench");
  const rng = new T.RandomState(1);
  const row = { label: `${c.label}${backend.simd ? ` (${backend.simd} SIMD)` : ""}` };
  for (const B of c.batches) {
    const p = lenet(rng);
    const x = T.tensor(rng.uniform(0, 1, B * 784), { shape: [B, 1, 28, 28] });
    const y = T.tensor(Int32Array.from({ length: B }, (_, i) => i % 10));
    row[`train B=${B}`] = await imagesPerSecond(B, () => trainStep(p, x, y));
    T.dispose([x, y, Object.values(p)]);
  }
  if (c.infer) {
    const p = lenet(rng);
    const x = T.tensor(rng.uniform(0, 1, 500 * 784), { shape: [500, 1, 28, 28] });
    row["infer B=500"] = await imagesPerSecond(500, () => noGrad(() => T.tidy(() => T.argmax(forward(p, x), 1))));
    T.dispose([x, Object.values(p)]);
  }
  // the shared memory's high-water mark: tensors, pooled blocks and the kernels' scratch
  const arena = backend.arena();
  if (arena) row["memory MB"] = (arena.capacity / 2 ** 20).toFixed(0);
  const stats = backend.kernelStats();
  // jobs the worker shared / jobs the caller ran alone after a stall (other processes busy)
  if (stats && backend.threads > 1) row["shared / solo jobs"] = `${stats.jobs} / ${stats.soloJobs}`;
  if (args.includes("--ops")) for (const B of c.batches) opRows.push({ label: `${row.label}, B=${B}`, ...opTimes(B) });
  rows.push(row);
  await T.removeBackend("bench");
}
const columns = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => k !== "label")))];
console.log(`| kernels | ${columns.join(" | ")} |\n|---|${columns.map(() => "---:").join("|")}|`);
for (const r of rows) console.log(`| ${r.label} | ${columns.map((k) => r[k] ?? "").join(" | ")} |`);
console.log(`peak RSS of the process: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
if (opRows.length > 0) {
  const names = Object.keys(opRows[0]).filter((k) => k !== "label");
  console.log(`\nms per call | ${names.join(" | ")} |\n|---|${names.map(() => "---:").join("|")}|`);
  for (const r of opRows) console.log(`| ${r.label} | ${names.map((k) => r[k]).join(" | ")} |`);
}
