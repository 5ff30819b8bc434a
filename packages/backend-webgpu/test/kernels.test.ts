/**
 * The heavy kernels (matmul, convolutions, pooling, gather) against straightforward JS loops.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Conv2dParams, Pool2dParams, Shape4 } from "../src/contract.js";
import { dense, expectClose, tryBackend, upload, values } from "./helpers.js";

const { backend, reason } = await tryBackend();
const b = backend!;
const k = backend?.kernels;

const idx4 = (s: Shape4, a: number, c: number, h: number, w: number) => ((a * s[1] + c) * s[2] + h) * s[3] + w;

function convOut(x: Shape4, w: Shape4, p: Conv2dParams): Shape4 {
  const oh = Math.floor((x[2] + 2 * p.padding[0] - p.dilation[0] * (w[2] - 1) - 1) / p.stride[0]) + 1;
  const ow = Math.floor((x[3] + 2 * p.padding[1] - p.dilation[1] * (w[3] - 1) - 1) / p.stride[1]) + 1;
  return [x[0], w[0], oh, ow];
}

/** Visits every (output cell, input cell, weight cell) triple of a convolution. */
function convVisit(xs: Shape4, ws: Shape4, os: Shape4, p: Conv2dParams, f: (xi: number, wi: number, oi: number) => void): void {
  const cg = xs[1] / p.groups;
  const og = ws[0] / p.groups;
  for (let n = 0; n < xs[0]; n++)
    for (let o = 0; o < ws[0]; o++) {
      const g = Math.floor(o / og);
      for (let oh = 0; oh < os[2]; oh++)
        for (let ow = 0; ow < os[3]; ow++)
          for (let c = 0; c < cg; c++)
            for (let kh = 0; kh < ws[2]; kh++)
              for (let kw = 0; kw < ws[3]; kw++) {
                const ih = oh * p.stride[0] - p.padding[0] + kh * p.dilation[0];
                const iw = ow * p.stride[1] - p.padding[1] + kw * p.dilation[1];
                if (ih < 0 || iw < 0 || ih >= xs[2] || iw >= xs[3]) continue;
                f(idx4(xs, n, g * cg + c, ih, iw), idx4(ws, o, c, kh, kw), idx4(os, n, o, oh, ow));
              }
    }
}

function poolOutSize(size: number, kk: number, s: number, p: number, ceil: boolean): number {
  if (!ceil) return Math.floor((size + 2 * p - kk) / s) + 1;
  let out = Math.ceil((size + 2 * p - kk) / s) + 1;
  if ((out - 1) * s >= size + p) out -= 1;
  return out;
}

/** The real input cells of each pooling window, row-major. */
function windows(xs: Shape4, p: Pool2dParams): { os: Shape4; cells: number[][] } {
  const oh = poolOutSize(xs[2], p.kernel[0], p.stride[0], p.padding[0], p.ceilMode);
  const ow = poolOutSize(xs[3], p.kernel[1], p.stride[1], p.padding[1], p.ceilMode);
  const os: Shape4 = [xs[0], xs[1], oh, ow];
  const cells: number[][] = [];
  for (let n = 0; n < xs[0]; n++)
    for (let c = 0; c < xs[1]; c++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          const list: number[] = [];
          for (let a = 0; a < p.kernel[0]; a++)
            for (let d = 0; d < p.kernel[1]; d++) {
              const ih = i * p.stride[0] - p.padding[0] + a;
              const iw = j * p.stride[1] - p.padding[1] + d;
              if (ih >= 0 && iw >= 0 && ih < xs[2] && iw < xs[3]) list.push(idx4(xs, n, c, ih, iw));
            }
          cells.push(list);
        }
  return { os, cells };
}

describe.skipIf(!backend)(`webgpu heavy kernels${backend ? "" : ` (skipped: no WebGPU adapter: ${reason})`}`, () => {
  afterAll(() => backend?.dispose());

  describe("matmul", () => {
    async function check(B: number, M: number, K: number, N: number, opts: { transposeB?: boolean; broadcastB?: boolean; dtype?: "float32" | "int32" } = {}) {
      const dtype = opts.dtype ?? "float32";
      const round = (v: number) => (dtype === "int32" ? Math.round(v * 8) : v);
      const aData = values(B * M * K, 1).map(round);
      const bBatches = opts.broadcastB ? 1 : B;
      const bData = values(bBatches * K * N, 2).map(round);
      // b is stored either as [B,K,N] or as [B,N,K] and viewed transposed.
      const bStrides = opts.transposeB ? [K * N, 1, K] : [K * N, N, 1];
      if (opts.broadcastB) bStrides[0] = 0;
      const bAt = (bb: number, kk: number, n: number) => bData[(opts.broadcastB ? 0 : bb * K * N) + kk * bStrides[1]! + n * bStrides[2]!]!;
      const a = upload(b, dtype, aData);
      const bm = upload(b, dtype, bData);
      const out = b.alloc(B * M * N, dtype);
      k!.matmul!(dense(a, [B, M, K]), { buffer: bm, shape: [B, K, N], strides: bStrides, offset: 0 }, out);
      const expected: number[] = [];
      for (let bb = 0; bb < B; bb++)
        for (let m = 0; m < M; m++)
          for (let n = 0; n < N; n++) {
            let s = 0;
            for (let kk = 0; kk < K; kk++) s += aData[(bb * M + m) * K + kk]! * bAt(bb, kk, n);
            expected.push(dtype === "int32" ? s | 0 : s);
          }
      expectClose(await b.read(out), expected, dtype === "int32" ? 0 : 1e-4, `matmul ${B}x${M}x${K}x${N}`);
      for (const t of [a, bm, out]) b.free(t);
    }

    it("batched, sizes not multiples of the tile", () => check(2, 37, 70, 65));
    it("transposed (strided) right operand", () => check(3, 20, 17, 9, { transposeB: true }));
    it("batch stride 0 (broadcast right operand)", () => check(3, 5, 6, 7, { broadcastB: true }));
    it("int32", () => check(2, 9, 13, 11, { dtype: "int32" }));
    it("sizes that are multiples of 4 (aligned vec4 runs), plain and transposed", async () => {
      await check(2, 8, 12, 16);
      await check(1, 4, 8, 12, { transposeB: true });
      await check(2, 12, 20, 300, { transposeB: true });
    });
    it("more rows than columns (lanes over rows), K not a multiple of 4", async () => {
      await check(1, 70, 9, 6);
      await check(2, 130, 7, 12, { transposeB: true });
    });
    it("long K with a small output (split K, partials summed)", () => check(1, 3, 10000, 5));
    it("K = 0 gives zeros", () => check(1, 2, 0, 3));
    it("the same buffer on both sides", async () => {
      const x = upload(b, "float32", [1, 2, 3, 4]);
      const out = b.alloc(4, "float32");
      k!.matmul!({ buffer: x, shape: [1, 2, 2], strides: [0, 2, 1], offset: 0 }, { buffer: x, shape: [1, 2, 2], strides: [0, 1, 2], offset: 0 }, out);
      expect(Array.from(await b.read(out))).toEqual([5, 11, 11, 25]);
      b.free(x);
      b.free(out);
    });
  });

  describe("conv2d", () => {
    const cases: Array<{ name: string; xs: Shape4; ws: Shape4; p: Conv2dParams }> = [
      { name: "plain 3x3", xs: [2, 3, 7, 6], ws: [4, 3, 3, 3], p: { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 } },
      { name: "groups, stride, padding, dilation", xs: [2, 4, 9, 8], ws: [6, 2, 3, 3], p: { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 } },
      { name: "depthwise 1x1 stride 2", xs: [1, 3, 5, 5], ws: [3, 1, 1, 1], p: { stride: [2, 2], padding: [0, 0], dilation: [1, 1], groups: 3 } },
      {
        name: "padding, odd widths (sliding windows)",
        xs: [2, 3, 7, 9],
        ws: [5, 3, 3, 3],
        p: { stride: [1, 1], padding: [1, 2], dilation: [1, 1], groups: 1 },
      },
      {
        name: "row stride and dilation, unit width stride",
        xs: [2, 4, 9, 7],
        ws: [4, 2, 3, 2],
        p: { stride: [2, 1], padding: [1, 0], dilation: [2, 1], groups: 2 },
      },
      { name: "rows narrower than a lane's columns", xs: [3, 2, 4, 3], ws: [9, 2, 2, 2], p: { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 } },
      {
        name: "kernel wider than the unrolled window",
        xs: [1, 2, 5, 12],
        ws: [3, 2, 2, 9],
        p: { stride: [1, 1], padding: [0, 1], dilation: [1, 1], groups: 1 },
      },
      {
        name: "LeNet-like weight gradient (split K)",
        xs: [8, 1, 28, 28],
        ws: [6, 1, 5, 5],
        p: { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 },
      },
    ];
    for (const c of cases) {
      it(`forward, input and weight gradients: ${c.name}`, async () => {
        const { xs, ws, p } = c;
        const os = convOut(xs, ws, p);
        const size = (s: Shape4) => s[0] * s[1] * s[2] * s[3];
        const xData = values(size(xs), 3);
        const wData = values(size(ws), 4);
        const dyData = values(size(os), 5);
        const y = new Array(size(os)).fill(0);
        const dx = new Array(size(xs)).fill(0);
        const dw = new Array(size(ws)).fill(0);
        convVisit(xs, ws, os, p, (xi, wi, oi) => {
          y[oi] += xData[xi]! * wData[wi]!;
          dx[xi] += dyData[oi]! * wData[wi]!;
          dw[wi] += dyData[oi]! * xData[xi]!;
        });
        const x = upload(b, "float32", xData);
        const w = upload(b, "float32", wData);
        const dy = upload(b, "float32", dyData);
        const out = b.alloc(size(os), "float32");
        const gx = b.alloc(size(xs), "float32");
        const gw = b.alloc(size(ws), "float32");
        k!.conv2d!(x, xs, w, ws, out, os, p);
        k!.conv2dBackwardInput!(dy, os, w, ws, gx, xs, p);
        k!.conv2dBackwardWeight!(x, xs, dy, os, gw, ws, p);
        expectClose(await b.read(out), y, 1e-4, "conv2d");
        expectClose(await b.read(gx), dx, 1e-4, "conv2dBackwardInput");
        expectClose(await b.read(gw), dw, 1e-4, "conv2dBackwardWeight");
        for (const t of [x, w, dy, out, gx, gw]) b.free(t);
      });
    }
  });

  describe("pooling", () => {
    const cases: Array<{ name: string; xs: Shape4; p: Pool2dParams }> = [
      { name: "2x2 stride 2", xs: [2, 3, 6, 6], p: { kernel: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false } },
      { name: "3x2 window, padding, floor mode", xs: [2, 2, 7, 6], p: { kernel: [3, 2], stride: [2, 2], padding: [1, 1], ceilMode: false } },
      { name: "3x3 stride 2 ceil mode (partial last window)", xs: [1, 2, 8, 7], p: { kernel: [3, 3], stride: [2, 2], padding: [1, 0], ceilMode: true } },
      { name: "overlapping 3x3 stride 1", xs: [1, 1, 5, 5], p: { kernel: [3, 3], stride: [1, 1], padding: [1, 1], ceilMode: false } },
      {
        name: "disjoint 2x2 stride 3, padding, ceil mode (uncovered cells)",
        xs: [2, 2, 7, 8],
        p: { kernel: [2, 2], stride: [3, 3], padding: [1, 0], ceilMode: true },
      },
      {
        name: "disjoint 2x3 stride 2x3, odd sizes (floor mode drops the edge)",
        xs: [1, 3, 5, 7],
        p: { kernel: [2, 3], stride: [2, 3], padding: [0, 0], ceilMode: false },
      },
    ];
    for (const c of cases) {
      it(`max and average, forward and backward: ${c.name}`, async () => {
        const { xs, p } = c;
        const { os, cells } = windows(xs, p);
        const size = (s: Shape4) => s[0] * s[1] * s[2] * s[3];
        // Coarse values so windows contain ties (the first maximum must win), plus one NaN.
        const xData = values(size(xs), 6).map((v) => Math.round(v * 3));
        xData[7] = Number.NaN;
        const dyData = values(size(os), 7);
        const maxOut: number[] = [];
        const avgOut: number[] = [];
        const dxMax = new Array(size(xs)).fill(0);
        const dxAvg = new Array(size(xs)).fill(0);
        cells.forEach((list, o) => {
          let best = list[0]!;
          for (const cell of list) {
            if (Number.isNaN(xData[best]!)) break;
            if (Number.isNaN(xData[cell]!) || xData[cell]! > xData[best]!) best = cell;
          }
          maxOut.push(xData[best]!);
          dxMax[best] += dyData[o]!;
          avgOut.push(list.reduce((s, cell) => s + xData[cell]!, 0) / list.length);
          for (const cell of list) dxAvg[cell] += dyData[o]! / list.length;
        });
        const x = upload(b, "float32", xData);
        const dy = upload(b, "float32", dyData);
        const mo = b.alloc(size(os), "float32");
        const ao = b.alloc(size(os), "float32");
        const gm = b.alloc(size(xs), "float32");
        const ga = b.alloc(size(xs), "float32");
        k!.maxPool2d!(x, xs, mo, os, p);
        k!.avgPool2d!(x, xs, ao, os, p);
        k!.maxPool2dBackward!(x, xs, dy, os, gm, p);
        k!.avgPool2dBackward!(dy, os, ga, xs, p);
        expectClose(await b.read(mo), maxOut, 0, "maxPool2d");
        expectClose(await b.read(ao), avgOut, 1e-6, "avgPool2d");
        expectClose(await b.read(gm), dxMax, 1e-6, "maxPool2dBackward");
        expectClose(await b.read(ga), dxAvg, 1e-6, "avgPool2dBackward");
        for (const t of [x, dy, mo, ao, gm, ga]) b.free(t);
      });
    }
  });

  describe("gather", () => {
    for (const dtype of ["float32", "int32", "bool"] as const) {
      it(`selects along the middle axis (${dtype})`, async () => {
        const [outer, n, inner] = [2, 5, 3];
        const data = Array.from({ length: outer * n * inner }, (_, i) => (dtype === "bool" ? i % 2 : dtype === "int32" ? i * 3 - 7 : i * 1.5 - 7));
        const ids = [4, 0, 4, 2];
        const x = upload(b, dtype, data);
        const idx = upload(b, "int32", ids);
        const out = b.alloc(outer * ids.length * inner, dtype);
        k!.gather!(x, outer, n, inner, idx, ids.length, out);
        const expected: number[] = [];
        for (let o = 0; o < outer; o++) for (const j of ids) for (let i = 0; i < inner; i++) expected.push(data[(o * n + j) * inner + i]!);
        expect(Array.from(await b.read(out))).toEqual(expected);
        for (const t of [x, idx, out]) b.free(t);
      });
    }
    it("selects zeros for out-of-range indices (those the core cannot check)", async () => {
      const [outer, n, inner] = [2, 3, 2];
      const data = Array.from({ length: outer * n * inner }, (_, i) => i + 1);
      const ids = [1, 3, -1, 0];
      const x = upload(b, "float32", data);
      const idx = upload(b, "int32", ids);
      const out = b.alloc(outer * ids.length * inner, "float32");
      k!.gather!(x, outer, n, inner, idx, ids.length, out);
      const expected: number[] = [];
      for (let o = 0; o < outer; o++) for (const j of ids) for (let i = 0; i < inner; i++) expected.push(j >= 0 && j < n ? data[(o * n + j) * inner + i]! : 0);
      expect(Array.from(await b.read(out))).toEqual(expected);
      for (const t of [x, idx, out]) b.free(t);
    });
  });
});
