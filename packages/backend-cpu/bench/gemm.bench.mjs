#!/usr/bin/env node
/**
 * GEMM throughput of the wasm kernels on LeNet's shapes, next to a plain-JS baseline.
 *
 *   node packages/backend-cpu/bench/gemm.bench.mjs [--reps 5] [--grads]
 *
 * Runs straight from the TypeScript sources: they are transpiled (types stripped, nothing
 * else) with the workspace's own `typescript` into a temporary folder, so no build is needed.
 * Prints GFLOP/s = 2·M·N·K / s, the median of --reps timed runs after two warm-up runs.
 * --grads adds the two gradient layouts (A·Bᵀ and Aᵀ·B) at batch 20.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

const args = process.argv.slice(2);
const REPS = Number(args[args.indexOf("--reps") + 1]) || 5;
const GRADS = args.includes("--grads");

/** Transpiles src/wasm/*.ts to a temporary folder and imports its index. */
async function loadKernels() {
  const src = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "wasm");
  const out = join(tmpdir(), `tessera-wasm-bench-${process.pid}`);
  mkdirSync(out, { recursive: true });
  process.on("exit", () => rmSync(out, { recursive: true, force: true }));
  for (const file of readdirSync(src).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))) {
    const { outputText } = ts.transpileModule(readFileSync(join(src, file), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    writeFileSync(join(out, file.replace(/\.ts$/, ".js")), outputText);
  }
  return import(pathToFileURL(join(out, "index.js")).href);
}

/** The plain-JS baseline: C = A·B with a 4×4 register tile (the JavaScript baseline of docs/cpu-kernels.md). */
function jsGemm(M, N, K, a, b, c) {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const r0 = i * K,
      r1 = r0 + K,
      r2 = r1 + K,
      r3 = r2 + K;
    for (let j = 0; j < N4; j += 4) {
      let c00 = 0,
        c01 = 0,
        c02 = 0,
        c03 = 0,
        c10 = 0,
        c11 = 0,
        c12 = 0,
        c13 = 0;
      let c20 = 0,
        c21 = 0,
        c22 = 0,
        c23 = 0,
        c30 = 0,
        c31 = 0,
        c32 = 0,
        c33 = 0;
      for (let k = 0, bk = j; k < K; k++, bk += N) {
        const b0 = b[bk],
          b1 = b[bk + 1],
          b2 = b[bk + 2],
          b3 = b[bk + 3];
        const a0 = a[r0 + k],
          a1 = a[r1 + k],
          a2 = a[r2 + k],
          a3 = a[r3 + k];
        c00 += a0 * b0;
        c01 += a0 * b1;
        c02 += a0 * b2;
        c03 += a0 * b3;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c12 += a1 * b2;
        c13 += a1 * b3;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c22 += a2 * b2;
        c23 += a2 * b3;
        c30 += a3 * b0;
        c31 += a3 * b1;
        c32 += a3 * b2;
        c33 += a3 * b3;
      }
      let o = i * N + j;
      c[o] = c00;
      c[o + 1] = c01;
      c[o + 2] = c02;
      c[o + 3] = c03;
      o += N;
      c[o] = c10;
      c[o + 1] = c11;
      c[o + 2] = c12;
      c[o + 3] = c13;
      o += N;
      c[o] = c20;
      c[o + 1] = c21;
      c[o + 2] = c22;
      c[o + 3] = c23;
      o += N;
      c[o] = c30;
      c[o + 1] = c31;
      c[o + 2] = c32;
      c[o + 3] = c33;
    }
  }
  // ragged edges: plain dot products
  for (let i = 0; i < M; i++) {
    for (let j = i < M4 ? N4 : 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
      c[i * N + j] = s;
    }
  }
}

function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  return s[s.length >> 1];
}

/**
 * Median milliseconds per call of each function. Calls are interleaved (one of each per
 * round) so that load from other processes on this shared machine hits all of them alike.
 */
function timeInterleaved(fns, reps = REPS, warm = 2) {
  for (let i = 0; i < warm; i++) for (const fn of fns) fn();
  const times = fns.map(() => []);
  for (let r = 0; r < reps; r++) {
    fns.forEach((fn, i) => {
      const t0 = performance.now();
      fn();
      times[i].push(performance.now() - t0);
    });
  }
  return times.map(median);
}

const { Arena, createSharedMemory, createWasmKernels } = await loadKernels();

// [name, M, N, K, transA, transB]: conv as im2col GEMM (M = batch·OH·OW), dense M = batch
const SHAPES = [
  ["conv1-b20", 11520, 20, 25],
  ["conv2-b20", 1280, 50, 500],
  ["dense-b20", 20, 500, 800],
  ["conv1-b500", 288000, 20, 25],
  ["conv2-b500", 32000, 50, 500],
  ["dense-b500", 500, 500, 800],
].map(([name, M, N, K]) => ({ name, M, N, K, transA: false, transB: false }));
if (GRADS) {
  // weight gradient dW = Xᵀ·dY and input gradient dX = dY·Wᵀ of the same layers
  SHAPES.push(
    { name: "conv1-dW", M: 25, N: 20, K: 11520, transA: true, transB: false },
    { name: "conv2-dW", M: 500, N: 50, K: 1280, transA: true, transB: false },
    { name: "conv2-dX", M: 1280, N: 500, K: 50, transA: false, transB: true },
    { name: "dense-dW", M: 800, N: 500, K: 20, transA: true, transB: false },
    { name: "dense-dX", M: 20, N: 800, K: 500, transA: false, transB: true },
  );
}

const arena = new Arena(createSharedMemory());
const variants = [];
for (const [simd, threads] of [
  ["standard", 1],
  ["relaxed", 1],
  ["standard", 2],
  ["relaxed", 2],
]) {
  variants.push({ label: `wasm ${simd}, ${threads} thread${threads > 1 ? "s" : ""}`, k: await createWasmKernels({ simd, threads, arena }) });
}

const rows = [{ label: "plain JS, 4×4 register tile", cells: [] }, ...variants.map((v) => ({ label: v.label, cells: [] }))];
for (const s of SHAPES) {
  const { M, N, K } = s;
  const A = arena.alloc(M * K * 4);
  const B = arena.alloc(K * N * 4);
  const C = arena.alloc(M * N * 4);
  const a = arena.f32view(A, M * K);
  const b = arena.f32view(B, K * N);
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i);
  for (let i = 0; i < b.length; i++) b[i] = Math.cos(i);
  // JS is ~15x slower: time it on at most ~60 MFLOP worth of rows (its speed barely depends on M)
  if (s.transA || s.transB) rows[0].cells.push("");
  else {
    const jm = Math.max(4, Math.min(M, Math.floor(30e6 / (N * K) / 4) * 4));
    const c = new Float32Array(jm * N);
    const aJs = a.slice(0, jm * K);
    const bJs = b.slice();
    const [ms] = timeInterleaved([() => jsGemm(jm, N, K, aJs, bJs, c)], 3, 1);
    rows[0].cells.push(((2 * jm * N * K) / (ms * 1e6)).toFixed(2));
  }
  const lda = s.transA ? M : K;
  const ldb = s.transB ? K : N;
  const ms = timeInterleaved(variants.map((v) => () => v.k.sgemm(M, N, K, A, lda, s.transA, B, ldb, s.transB, C, N, 0)));
  ms.forEach((t, i) => rows[i + 1].cells.push(((2 * M * N * K) / (t * 1e6)).toFixed(1)));
  arena.free(A);
  arena.free(B);
  arena.free(C);
}

console.log(`GEMM GFLOP/s (2·M·N·K / s), median of ${REPS}; ${cpus()[0]?.model ?? "?"} ×${cpus().length}, Node ${process.versions.node}`);
console.log(`| variant | ${SHAPES.map((s) => `${s.name} (${s.M}×${s.N}×${s.K})`).join(" | ")} |`);
console.log(`|---|${SHAPES.map(() => "---:").join("|")}|`);
for (const r of rows) console.log(`| ${r.label} | ${r.cells.join(" | ")} |`);

// im2col feeding those GEMMs: milliseconds per call (relaxed/standard do not matter here)
const CONVS = [
  ["conv1-b20", [20, 1, 28, 28]],
  ["conv2-b20", [20, 20, 12, 12]],
  ["conv1-b500", [500, 1, 28, 28]],
  ["conv2-b500", [500, 20, 12, 12]],
];
const im2colRows = [];
for (const [name, shape] of CONVS) {
  const [N, C, H, W] = shape;
  const x = arena.alloc(N * C * H * W * 4);
  const out = arena.alloc(N * (H - 4) * (W - 4) * C * 25 * 4);
  const [t1, t2] = timeInterleaved([1, 3].map((i) => () => variants[i].k.im2col(x, shape, [5, 5], {}, out)));
  im2colRows.push(`| im2col ${name} [${shape.join(",")}], 5×5 | ${t1.toFixed(3)} | ${t2.toFixed(3)} |`);
  arena.free(x);
  arena.free(out);
}
console.log("\n| im2col, ms per call | 1 thread | 2 threads |\n|---|---:|---:|");
for (const r of im2colRows) console.log(r);
const { jobs, chunks, callerChunks } = variants[3].k.stats;
console.log(`\n2-thread jobs: ${jobs}, chunks ${chunks}, run by the worker ${(100 * (1 - callerChunks / chunks)).toFixed(0)}%`);
for (const v of variants) await v.k.dispose();
