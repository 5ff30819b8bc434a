/**
 * `kernelTuning: "gpu"` splits long reductions across many workgroups (partial sums, then a sum
 * kernel). On lavapipe, whose default is "software", both tunings must give LeNet-5's convolutions
 * and matmuls as a float64 loop computes them; the GPU tuning must actually split (more dispatches).
 */
import { afterAll, describe, expect, it } from "vitest";
import type { BackendBuffer, Conv2dParams, Shape4 } from "../src/contract.js";
import { KERNEL_TUNING_ENV, type WebGPUBackend, createWebGPUBackend } from "../src/index.js";
import { dense, expectClose, tryBackend, upload, values } from "./helpers.js";

const { backend: probe, reason } = await tryBackend();

const sizeOf = (s: Shape4) => s[0] * s[1] * s[2] * s[3];
const P: Conv2dParams = { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 };
const at = (s: Shape4, n: number, c: number, h: number, w: number) => ((n * s[1] + c) * s[2] + h) * s[3] + w;

/** conv2d (valid, stride 1) and its two gradients in float64: out, dx for `dy`, dw for `dy`. */
function convReference(xs: Shape4, x: number[], ws: Shape4, w: number[], dy: number[]) {
  const os: Shape4 = [xs[0], ws[0], xs[2] - ws[2] + 1, xs[3] - ws[3] + 1];
  const out = new Float64Array(sizeOf(os));
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let n = 0; n < xs[0]; n++)
    for (let o = 0; o < ws[0]; o++)
      for (let oh = 0; oh < os[2]; oh++)
        for (let ow = 0; ow < os[3]; ow++) {
          const oi = at(os, n, o, oh, ow);
          for (let c = 0; c < xs[1]; c++)
            for (let kh = 0; kh < ws[2]; kh++)
              for (let kw = 0; kw < ws[3]; kw++) {
                const xi = at(xs, n, c, oh + kh, ow + kw);
                const wi = at(ws, o, c, kh, kw);
                out[oi]! += x[xi]! * w[wi]!;
                dx[xi]! += dy[oi]! * w[wi]!;
                dw[wi]! += dy[oi]! * x[xi]!;
              }
        }
  return { os, out, dx, dw };
}

function matmulReference(a: number[], b: number[], m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p]!;
      for (let j = 0; j < n; j++) c[i * n + j]! += av * b[p * n + j]!;
    }
  return c;
}

/** Dispatches `record` adds on `b` (a flush records the gradient kernels the backend defers). */
function dispatchesOf(b: WebGPUBackend, record: () => void): number {
  const before = b.stats().dispatches;
  record();
  b.flush();
  return b.stats().dispatches - before;
}

if (probe) {
  const software = await createWebGPUBackend({ kernelTuning: "software" });
  const gpu = await createWebGPUBackend({ kernelTuning: "gpu" });
  afterAll(() => {
    for (const b of [probe, software, gpu]) b.dispose();
  });

  describe("kernelTuning", () => {
    it("defaults to software tuning on a software adapter and refuses an unknown value", async () => {
      expect(probe.kernelTuning).toBe(probe.adapter.isFallbackAdapter || probe.adapter.architecture === "software" ? "software" : "gpu");
      await expect(createWebGPUBackend({ kernelTuning: "fast" as never })).rejects.toThrow(/kernelTuning must be "gpu" or "software", got "fast"/);
    });

    it(`takes ${KERNEL_TUNING_ENV} when the option is not given, and names the variable when it is wrong`, async () => {
      const saved = process.env[KERNEL_TUNING_ENV];
      try {
        process.env[KERNEL_TUNING_ENV] = "gpu";
        const fromEnv = await createWebGPUBackend();
        const fromOption = await createWebGPUBackend({ kernelTuning: "software" });
        expect([fromEnv.kernelTuning, fromOption.kernelTuning]).toEqual(["gpu", "software"]);
        fromEnv.dispose();
        fromOption.dispose();
        process.env[KERNEL_TUNING_ENV] = "turbo";
        await expect(createWebGPUBackend()).rejects.toThrow(`${KERNEL_TUNING_ENV} must be gpu or software, got "turbo"`);
      } finally {
        if (saved === undefined) delete process.env[KERNEL_TUNING_ENV];
        else process.env[KERNEL_TUNING_ENV] = saved;
      }
    });

    // LeNet-5's layers at batch 20, where a GPU sees only a few workgroups per kernel.
    const convCases: { name: string; xs: Shape4; ws: Shape4 }[] = [
      { name: "conv1 (1 -> 20 channels, 28x28)", xs: [20, 1, 28, 28], ws: [20, 1, 5, 5] },
      { name: "conv2 (20 -> 50 channels, 12x12)", xs: [20, 20, 12, 12], ws: [50, 20, 5, 5] },
    ];
    for (const { name, xs, ws } of convCases) {
      it(`${name}: forward, input and weight gradients agree with float64 under both tunings`, async () => {
        const x = values(sizeOf(xs), 1);
        const w = values(sizeOf(ws), 2);
        const os: Shape4 = [xs[0], ws[0], xs[2] - ws[2] + 1, xs[3] - ws[3] + 1];
        const dy = values(sizeOf(os), 3);
        const ref = convReference(xs, x, ws, w, dy);
        const counts: Record<string, number[]> = {};
        for (const b of [software, gpu]) {
          const k = b.kernels;
          const bufs: BackendBuffer[] = [];
          const up = (v: number[]) => {
            const buf = upload(b, "float32", v);
            bufs.push(buf);
            return buf;
          };
          const xb = up(x);
          const wb = up(w);
          const dyb = up(dy);
          const out = b.alloc(ref.out.length, "float32");
          const dx = b.alloc(x.length, "float32");
          const dw = b.alloc(w.length, "float32");
          counts[b.kernelTuning] = [
            dispatchesOf(b, () => k.conv2d!(xb, xs, wb, ws, out, os, P)),
            dispatchesOf(b, () => k.conv2dBackwardInput!(dyb, os, wb, ws, dx, xs, P)),
            dispatchesOf(b, () => k.conv2dBackwardWeight!(xb, xs, dyb, os, dw, ws, P)),
          ];
          const what = `${name}, ${b.kernelTuning} tuning`;
          expectClose(await b.read(out), ref.out, 1e-4, `${what}: conv2d`);
          expectClose(await b.read(dx), ref.dx, 1e-4, `${what}: conv2dBackwardInput`);
          expectClose(await b.read(dw), ref.dw, 1e-4, `${what}: conv2dBackwardWeight`);
          for (const buf of [...bufs, out, dx, dw]) b.free(buf);
        }
        // a GPU gets more of the reductions split (a split adds a dispatch summing the partials)
        const total = (c: number[]) => c.reduce((s, v) => s + v, 0);
        expect(total(counts.gpu!)).toBeGreaterThan(total(counts.software!));
      });
    }

    it("matmuls with a small output and a long reduction (fc1's forward and weight gradient) agree and split", async () => {
      for (const [m, k, n] of [
        [20, 800, 500],
        [800, 20, 500],
        [500, 500, 10],
      ] as const) {
        const a = values(m * k, m);
        const bv = values(k * n, n);
        const ref = matmulReference(a, bv, m, k, n);
        const counts: Record<string, number> = {};
        for (const b of [software, gpu]) {
          const ab = upload(b, "float32", a);
          const bb = upload(b, "float32", bv);
          const out = b.alloc(m * n, "float32");
          counts[b.kernelTuning] = dispatchesOf(b, () => b.kernels.matmul!(dense(ab, [1, m, k]), dense(bb, [1, k, n]), out));
          expectClose(await b.read(out), ref, 1e-4, `matmul ${m}x${k} @ ${k}x${n}, ${b.kernelTuning} tuning`);
          for (const buf of [ab, bb, out]) b.free(buf);
        }
        if (k >= 256) expect(counts.gpu, `matmul ${m}x${k} @ ${k}x${n}`).toBeGreaterThan(counts.software!);
      }
    });
  });
} else {
  describe.skip(`kernelTuning (skipped: no WebGPU adapter: ${reason})`, () => {
    it("splits long reductions on a GPU", () => {});
  });
}
